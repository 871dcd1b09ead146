// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// firewarden exec sensor: one record per successful execve/execveat, taken
// at sched_process_exec, when the new program's mm, credentials and comm are
// in place (so argv is read from the new mm's arg_start..arg_end, exactly as
// the kernel laid it out, with no /proc race).
//
// Three programs do the same work from three attach points; userspace loads
// the first one the kernel accepts: tp_btf (BTF-typed, cheapest), then
// raw_tracepoint, then the classic tracepoint.
//
// Records go to a ring buffer; a record that does not fit is counted in a
// per-CPU counter (C_DROPPED), never lost silently.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// Compiled limits. Userspace decodes with the same numbers (exec.go).
#define ARGS_MAX 65536 // argv bytes a record can carry
#define STRS_MAX 8192  // path components + filename
#define NAME_MAX_ 256  // one path component, with its NUL
#define PATH_DEPTH 64  // components walked per path
#define FILENAME_MAX_ 1024
#define OFF_MASK 0x3fff // > STRS_MAX

// flags
#define F_ARGS_TRUNC (1 << 0)   // argv longer than args_limit: cut
#define F_ARGS_FAULT (1 << 1)   // argv could not be read
#define F_EXE_TRUNC (1 << 2)    // executable path deeper than PATH_DEPTH or STRS_MAX
#define F_CWD_TRUNC (1 << 3)
#define F_EXE_DELETED (1 << 4)  // the executable's dentry is unhashed (deleted, memfd)
#define F_EXE_MISSING (1 << 5)  // no mm->exe_file
#define F_CWD_MISSING (1 << 6)
#define F_FILE_TRUNC (1 << 7)
#define F_EXE_DETACHED (1 << 8) // walk ended at a root that is not a mount root (pseudo file)
#define F_CWD_DETACHED (1 << 9)

// counters (per-CPU array indices)
#define C_EXECS 0   // sched_process_exec hits
#define C_DROPPED 1 // ring buffer full: record lost
#define C_ARGS_TRUNC 2
#define C_ERRORS 3 // a read failed (record still sent, flagged)
#define C_MAX 4

// attach point that produced the record
#define A_TP_BTF 1
#define A_RAW_TP 2
#define A_TP 3

struct event {
	u64 ktime;     // bpf_ktime_get_ns (CLOCK_MONOTONIC)
	u64 cgroup_id; // cgroup v2 id
	u32 pid;       // tgid
	u32 tid;
	u32 ppid; // real_parent->tgid
	u32 old_pid;
	u32 uid, gid, euid, egid;
	u32 netns, mntns; // namespace inode numbers
	u32 args_size;    // arg_end - arg_start
	u32 args_len;     // bytes of argv carried
	u32 args_limit;   // the limit in force
	u16 exe_len;      // bytes of exe components in data
	u16 cwd_len;      // bytes of cwd components after them
	u16 file_len;     // bytes of filename after them
	u16 flags;
	u8 attach;
	u8 pad[7];
	char comm[16];
	// data: exe components, cwd components (each NUL-terminated, leaf
	// first), filename, then argv.
	char data[STRS_MAX + ARGS_MAX];
};

// Set at load time (at most ARGS_MAX).
volatile const u32 args_limit = ARGS_MAX;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); // resized at load time
} events SEC(".maps");

// One record under construction per CPU. A plain array indexed by CPU (its
// size set to the possible CPUs at load time): a per-CPU array's value is
// limited to 32 KiB, a record is up to 72 KiB.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); // resized at load time
	__type(key, u32);
	__type(value, struct event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

static __always_inline void count(u32 i)
{
	u64 *c = bpf_map_lookup_elem(&counters, &i);
	if (c)
		*c += 1;
}

// walk appends the components of path (dentry, vfsmount) to e->data from
// *off, leaf first, each NUL-terminated, crossing mount points up to the
// root of the task's mount namespace, as d_path does. It returns flags.
static __always_inline u16 walk(struct event *e, u64 *off, struct dentry *dentry,
				struct vfsmount *vfsmnt, u16 trunc, u16 detached)
{
	struct mount *mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	u64 o = *off;
	u16 flags = trunc;

	for (int i = 0; i < PATH_DEPTH; i++) {
		struct dentry *root = BPF_CORE_READ(vfsmnt, mnt_root);
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
		if (dentry == root || dentry == parent) {
			if (dentry != root) {
				// A root that is no mount's root: a pseudo file
				// (memfd, anonymous inode). Name it and stop.
				if (o <= STRS_MAX - NAME_MAX_) {
					const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
					long n = bpf_probe_read_kernel_str(&e->data[o], NAME_MAX_, name);
					if (n > 0)
						o += n;
				}
				flags = detached;
				break;
			}
			struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
			if (up == mnt) {
				flags = 0; // the namespace's root
				break;
			}
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = up;
			vfsmnt = (void *)up + bpf_core_field_offset(struct mount, mnt);
			continue;
		}
		if (o > STRS_MAX - NAME_MAX_)
			break; // out of room: stays truncated
		const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
		long n = bpf_probe_read_kernel_str(&e->data[o], NAME_MAX_, name);
		if (n <= 0)
			break;
		// The mask changes nothing (o stays below STRS_MAX) but gives
		// every iteration the same bounds, so the verifier can prune.
		o = (o + n) & OFF_MASK;
		dentry = parent;
	}
	*off = o;
	return flags;
}

static __always_inline int handle(void *ctx, const char *filename, u32 old_pid, u8 attach)
{
	u32 cpu = bpf_get_smp_processor_id();
	struct event *e = bpf_map_lookup_elem(&scratch, &cpu);
	if (!e)
		return 0;
	count(C_EXECS);

	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 pid_tgid = bpf_get_current_pid_tgid();
	u64 uid_gid = bpf_get_current_uid_gid();

	e->ktime = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = pid_tgid >> 32;
	e->tid = (u32)pid_tgid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->old_pid = old_pid;
	e->uid = (u32)uid_gid;
	e->gid = uid_gid >> 32;
	e->euid = BPF_CORE_READ(task, cred, euid.val);
	e->egid = BPF_CORE_READ(task, cred, egid.val);
	e->netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	e->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	e->attach = attach;
	e->flags = 0;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	u64 off = 0;
	u16 flags = 0;

	// The executable, as the kernel resolved it (mm->exe_file).
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct file *exe = BPF_CORE_READ(mm, exe_file);
	if (exe) {
		struct dentry *d = BPF_CORE_READ(exe, f_path.dentry);
		struct vfsmount *m = BPF_CORE_READ(exe, f_path.mnt);
		if (!BPF_CORE_READ(d, d_hash.pprev))
			flags |= F_EXE_DELETED;
		flags |= walk(e, &off, d, m, F_EXE_TRUNC, F_EXE_DETACHED);
	} else {
		flags |= F_EXE_MISSING;
	}
	e->exe_len = off;

	// The working directory.
	u64 start = off;
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	if (fs) {
		struct dentry *d = BPF_CORE_READ(fs, pwd.dentry);
		struct vfsmount *m = BPF_CORE_READ(fs, pwd.mnt);
		flags |= walk(e, &off, d, m, F_CWD_TRUNC, F_CWD_DETACHED);
	} else {
		flags |= F_CWD_MISSING;
	}
	if (off > STRS_MAX)
		off = STRS_MAX;
	e->cwd_len = off - start;

	// The path as invoked (execve's first argument).
	start = off;
	if (filename && off <= STRS_MAX - FILENAME_MAX_) {
		long n = bpf_probe_read_kernel_str(&e->data[off], FILENAME_MAX_, filename);
		if (n > 0) {
			off += n;
			if (n == FILENAME_MAX_)
				flags |= F_FILE_TRUNC;
		}
	} else if (filename) {
		flags |= F_FILE_TRUNC;
	}
	if (off > STRS_MAX)
		off = STRS_MAX;
	e->file_len = off - start;

	// argv, from the new mm.
	unsigned long as = BPF_CORE_READ(mm, arg_start);
	unsigned long ae = BPF_CORE_READ(mm, arg_end);
	u64 size = ae > as ? ae - as : 0;
	u64 limit = args_limit;
	if (limit > ARGS_MAX)
		limit = ARGS_MAX;
	u64 len = size;
	if (len > limit) {
		len = limit;
		flags |= F_ARGS_TRUNC;
		count(C_ARGS_TRUNC);
	}
	// Keep the compiler from reusing the unclamped copy.
	barrier_var(len);
	if (len > ARGS_MAX)
		len = ARGS_MAX;
	barrier_var(len);
	if (len > 0 && bpf_probe_read_user(&e->data[off], len, (void *)as) < 0) {
		flags |= F_ARGS_FAULT;
		count(C_ERRORS);
		len = 0;
	}
	e->args_size = size;
	e->args_len = len;
	e->args_limit = limit;
	e->flags = flags;

	u64 total = offsetof(struct event, data) + off + len;
	if (total > sizeof(*e))
		total = sizeof(*e);
	if (bpf_ringbuf_output(&events, e, total, 0) < 0)
		count(C_DROPPED);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int tp_btf_exec(u64 *ctx)
{
	// (struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
	struct linux_binprm *bprm = (struct linux_binprm *)ctx[2];
	return handle(ctx, BPF_CORE_READ(bprm, filename), (u32)ctx[1], A_TP_BTF);
}

SEC("raw_tracepoint/sched_process_exec")
int raw_tp_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	return handle(ctx, BPF_CORE_READ(bprm, filename), (u32)ctx->args[1], A_RAW_TP);
}

// The classic tracepoint's record (see
// /sys/kernel/tracing/events/sched/sched_process_exec/format).
struct tp_exec {
	u64 common;
	u32 filename_loc; // __data_loc: offset in the low 16 bits
	s32 pid;
	s32 old_pid;
};

SEC("tracepoint/sched/sched_process_exec")
int tp_exec(struct tp_exec *ctx)
{
	const char *filename = (const char *)ctx + (ctx->filename_loc & 0xffff);
	return handle(ctx, filename, ctx->old_pid, A_TP);
}
