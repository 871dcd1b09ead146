package exec

// Regenerate the committed eBPF object and its Go loader (exec_bpfel.go,
// exec_bpfel.o) after editing bpf/exec.c. Needs clang and llvm-strip
// (Debian: apt-get install clang llvm libbpf-dev); `go build` itself needs
// neither, since the output is committed.
//
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go@v0.22.0 -cc clang -strip llvm-strip -cflags "-O2 -g -Wall -Werror" -target bpfel -go-package exec exec bpf/exec.c
