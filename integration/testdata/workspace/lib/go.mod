module example.com/ws/lib

go 1.26
