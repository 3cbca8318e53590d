module github.com/otsiem/otsiem

go 1.26
