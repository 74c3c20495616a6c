/* Start-up code for the application processors, copied by the boot vCPU
 * to PROBE_TRAMPOLINE_BASE (the SIPI vector's page) before it sends INIT-SIPI-SIPI.
 * Each AP goes from real mode through protected mode to long mode with the
 * boot vCPU's page tables, takes a stack slot by atomic increment, and calls
 * probe_ap_main(slot). Addresses are computed relative to the copy. */

#include "probe_layout.h"
#define AT(label) (PROBE_TRAMPOLINE_BASE + (label - ap_trampoline_start))

	.section .text.trampoline, "ax"
	.globl ap_trampoline_start, ap_trampoline_end, ap_trampoline_cr3
	.code16
ap_trampoline_start:
	cli
	mov %cs, %ax
	mov %ax, %ds
	lgdtl (ap_gdt_descriptor - ap_trampoline_start)
	mov %cr0, %eax
	or $1, %eax			/* PE */
	mov %eax, %cr0
	ljmpl $0x08, $AT(ap_protected)

	.code32
ap_protected:
	mov $0x18, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov AT(ap_trampoline_cr3), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax		/* PG */
	mov %eax, %cr0
	ljmp $0x10, $AT(ap_long)

	.code64
ap_long:
	mov $1, %edi
	lock xadd %edi, AT(ap_next_slot)	/* edi = this AP's slot */
	mov %edi, %eax
	inc %eax
	cmp $PROBE_MAX_APS, %eax		/* more APs than stacks: park it */
	ja 1f
	shl $12, %eax
	mov $probe_ap_stacks, %rsp
	add %rax, %rsp
	mov $probe_ap_main, %rax
	call *%rax
1:	cli
	hlt
	jmp 1b

	.balign 8
ap_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff	/* 0x08: 32-bit code */
	.quad 0x00af9b000000ffff	/* 0x10: 64-bit code */
	.quad 0x00cf93000000ffff	/* 0x18: data */
ap_gdt_end:
ap_gdt_descriptor:
	.word ap_gdt_end - ap_gdt - 1
	.long AT(ap_gdt)
ap_trampoline_cr3:
	.long 0
ap_next_slot:
	.long 0
ap_trampoline_end:
	.section .note.GNU-stack, "", @progbits
