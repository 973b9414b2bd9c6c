module example.com/victim

go 1.26

require example.com/shared/greet v1.0.0
