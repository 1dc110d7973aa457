module cet/bench/loadgen

go 1.26
