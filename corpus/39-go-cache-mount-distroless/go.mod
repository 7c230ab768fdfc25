module example.com/topwords

go 1.19
