module example.com/monorepo/lib

go 1.26

require example.com/monorepo/proto v0.0.0

replace example.com/monorepo/proto => ../proto
