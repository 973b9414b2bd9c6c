module example.com/debugsvc

go 1.26
