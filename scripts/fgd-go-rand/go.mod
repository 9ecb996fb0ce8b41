module tessera/fgd-go-rand

go 1.19
