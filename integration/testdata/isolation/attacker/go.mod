module example.com/attacker

go 1.26

require example.com/shared/greet v1.0.0
