module example.com/toolchaintags

go 1.26
