module example.com/private/app

go 1.26

require example.com/private/greet v1.0.0
