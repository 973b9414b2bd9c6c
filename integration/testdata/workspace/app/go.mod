module example.com/ws/app

go 1.26

require example.com/ws/lib v0.0.0-00010101000000-000000000000
