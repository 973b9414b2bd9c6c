module example.com/monorepo/services/api

go 1.26

require (
	example.com/monorepo/lib v0.0.0
	example.com/monorepo/proto v0.0.0
)

replace (
	example.com/monorepo/lib => ../../lib
	example.com/monorepo/proto => ../../proto
)
