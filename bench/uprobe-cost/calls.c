/* Calls one of two functions in a loop and prints the nanoseconds per call; bench/uprobe-cost.sh
 * puts probes on them. `plain` opens as a compiler makes a function (an int3 probe there traps);
 * `nop5` opens with a 5-byte nop, the one instruction the kernel (6.18 and later, x86-64) turns
 * a uprobe on into a call of its uprobe trampoline (a syscall) instead of a trap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((noinline)) int plain(int x)
{
	__asm__ volatile("");
	return x + 1;
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
	if (argc != 3 || (strcmp(argv[2], "plain") && strcmp(argv[2], "nop5"))) {
		fprintf(stderr, "usage: %s CALLS plain|nop5\n", argv[0]);
		return 2;
	}
	long calls = atol(argv[1]);
	int (*f)(int) = strcmp(argv[2], "plain") ? nop5 : plain;
	volatile int sink = 0;
	/* the first calls let the kernel optimise a nop5 probe (it does on the first hit) */
	for (int i = 0; i < 1000; i++)
		sink += f(i);
	double start = now_ns();
	for (long i = 0; i < calls; i++)
		sink += f((int)i);
	printf("%.0f\n", (now_ns() - start) / calls);
	return 0;
}
