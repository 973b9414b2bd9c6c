module example.com/monorepo/proto

go 1.26
