/* A PVH guest not written for Shelter: it knows only the PVH entry, a
 * 16550 at 0x3f8 and the PC's i8042 reset. It prints a line and resets the
 * machine (command 0xFE to port 0x64), as a stock kernel's reboot does. */

	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, 18
	.asciz "Xen"
	.long pvh_start32

	.section .text.head, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	mov $message, %esi
1:	movb (%esi), %al
	test %al, %al
	jz 3f
	mov %al, %ah
	mov $0x3fd, %dx			/* wait for the transmitter */
2:	inb %dx, %al
	test $0x20, %al
	jz 2b
	mov $0x3f8, %dx
	mov %ah, %al
	outb %al, %dx
	inc %esi
	jmp 1b
3:	mov $0xfe, %al			/* pulse the reset line */
	outb %al, $0x64
4:	hlt
	jmp 4b

	.section .rodata
message:
	.asciz "hello from a PVH guest that knows nothing of Shelter\n"
	.section .note.GNU-stack, "", @progbits
