module example.com/shared/greet

go 1.26
