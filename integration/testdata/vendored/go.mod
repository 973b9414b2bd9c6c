module example.com/vendored

go 1.26

require example.com/greeting v1.0.0
