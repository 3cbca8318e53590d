module github.com/otsiem/otsiem

go 1.26

require github.com/leodido/go-syslog/v4 v4.6.0
