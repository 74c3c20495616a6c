/* The PVH probe's entry: a Xen PHYS32_ENTRY ELF note, then the 32-bit
 * protected-mode entry the PVH boot ABI defines (paging off, EBX = the
 * hvm_start_info). It maps the first 4 GiB, enters long mode and calls
 * pvh_probe_main(start_info). */

	.section .note.Xen, "a", @note
	.balign 4
	.long 4				/* name size */
	.long 4				/* descriptor size */
	.long 18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start32

	.section .text.head, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	mov %ebx, %esi			/* keep hvm_start_info */
	/* Four page directories of 2 MiB pages: 4 GiB identity-mapped. */
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax			/* present, writable, 2 MiB */
	mov %eax, page_directories(,%ecx,8)
	movl $0, page_directories+4(,%ecx,8)
	inc %ecx
	cmp $2048, %ecx
	jne 1b
	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $12, %eax
	add $page_directories + 3, %eax
	mov %eax, pdpt(,%ecx,8)
	inc %ecx
	cmp $4, %ecx
	jne 2b
	movl $pdpt + 3, pml4
	mov %cr4, %eax
	or $0x20, %eax			/* PAE */
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000001, %eax		/* PG, PE */
	mov %eax, %cr0
	lgdt gdt_descriptor
	ljmp $0x08, $long_mode

	.code64
long_mode:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	lea stack_top(%rip), %rsp
	mov %esi, %edi
	call pvh_probe_main
3:	hlt
	jmp 3b

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* 64-bit code */
	.quad 0x00cf93000000ffff	/* data */
gdt_end:
gdt_descriptor:
	.word gdt_end - gdt - 1
	.long gdt

	.section .bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
page_directories:
	.skip 4 * 4096
	.balign 16
	.skip 16384
stack_top:
	.section .note.GNU-stack, "", @progbits
