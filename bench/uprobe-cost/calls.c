/* Calls one of three functions in a loop and prints the nanoseconds per call; bench/uprobe-cost.sh
 * puts probes on their first instructions. x86-64 uprobes handle a probed instruction one of three
 * ways: `pushed` opens with a push, which the kernel emulates after the int3 trap (the TLS probes
 * are placed on such instructions, see TlsProbeSites); `stepped` opens with a stack adjustment,
 * which the kernel executes out of line with a single step (a second trap, the debug exception);
 * `nop5` opens with a 5-byte nop, which kernels 6.18 and later replace with a call of the uprobe
 * trampoline (a syscall, no trap at all). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((noinline, naked)) int pushed(int x)
{
	__asm__ volatile("pushq %rbx\n\tleal 1(%rdi), %eax\n\tpopq %rbx\n\tret");
}

__attribute__((noinline, naked)) int stepped(int x)
{
	__asm__ volatile("subq $0x18, %rsp\n\tleal 1(%rdi), %eax\n\taddq $0x18, %rsp\n\tret");
}

__attribute__((noinline, naked)) int nop5(int x)
{
	__asm__ volatile(".byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n\tleal 1(%rdi), %eax\n\tret");
}

static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	int (*f)(int) = NULL;
	if (argc == 3)
		f = !strcmp(argv[2], "pushed") ? pushed : !strcmp(argv[2], "stepped") ? stepped : !strcmp(argv[2], "nop5") ? nop5 : NULL;
	if (!f) {
		fprintf(stderr, "usage: %s CALLS pushed|stepped|nop5\n", argv[0]);
		return 2;
	}
	long calls = atol(argv[1]);
	volatile int sink = 0; /* kept: the calls must happen */
	/* the first calls let the kernel optimise a nop5 probe (it does on the first hit) */
	for (int i = 0; i < 1000; i++)
		sink += f(i);
	double start = now_ns();
	for (long i = 0; i < calls; i++)
		sink += f((int)i);
	printf("%.0f\n", (now_ns() - start) / calls);
	return 0;
}
