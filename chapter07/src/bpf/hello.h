// Learning eBPF, chapter 7 (hello.h): what every program of hello.bpf.c sends to user space.

// Which program sent an event: the index of its attach point in user space's list.
enum source {
	SOURCE_KSYSCALL,
	SOURCE_KPROBE,
	SOURCE_KRETPROBE,
	SOURCE_FENTRY,
	SOURCE_FEXIT,
	SOURCE_TP,
	SOURCE_TP_BTF,
	SOURCE_RAW_TP,
	SOURCE_UPROBE,
	SOURCE_URETPROBE,
	SOURCE_UPROBE_LIBC,
};

struct data_t {
	int source;
	int pid;
	// The function's argument (uprobe) or return value (kretprobe, fexit, uretprobe).
	long long value;
	char command[16];
	// The program's path, where the hook can see it.
	char path[64];
};
