/* The bzImage probe's setup sectors (a Linux boot protocol 2.15 setup
 * header, Documentation/arch/x86/boot.rst) and its protected-mode part:
 * a 32-bit entry it does not support, then the 64-bit entry at +0x200. */

	.section .setup, "a"
	.org 0x1f1
setup_sects:		.byte 1
root_flags:		.word 0
syssize:		.long _syssize
ram_size:		.word 0
vid_mode:		.word 0xffff
root_dev:		.word 0
boot_flag:		.word 0xaa55
jump:			.byte 0xeb, setup_header_end - header
header:			.ascii "HdrS"
version:		.word 0x020f
realmode_swtch:		.long 0
start_sys_seg:		.word 0
kernel_version:		.word 0
type_of_loader:		.byte 0
loadflags:		.byte 0x01		/* LOADED_HIGH */
setup_move_size:	.word 0
code32_start:		.long 0x100000
ramdisk_image:		.long 0
ramdisk_size:		.long 0
bootsect_kludge:	.long 0
heap_end_ptr:		.word 0
ext_loader_ver:		.byte 0
ext_loader_type:	.byte 0
cmd_line_ptr:		.long 0
initrd_addr_max:	.long 0x7fffffff
kernel_alignment:	.long 0x200000
relocatable_kernel:	.byte 0
min_alignment:		.byte 12
xloadflags:		.word 0x01		/* XLF_KERNEL_64 */
cmdline_size:		.long 4095
hardware_subarch:	.long 0
hardware_subarch_data:	.quad 0
payload_offset:		.long 0
payload_length:		.long 0
setup_data:		.quad 0
pref_address:		.quad 0x1000000
init_size:		.long _init_size
handover_offset:	.long 0
kernel_info_offset:	.long 0
setup_header_end:
	.org 1024

	.section .text.head, "ax"
	.code32
startup_32:
	hlt
	jmp startup_32

	.org 0x200
	.code64
	.globl startup_64
startup_64:
	cli
	lea stack_top(%rip), %rsp
	mov %rsi, %rdi			/* boot_params */
	call bzimage_probe_main
1:	hlt
	jmp 1b

	.section .bss
	.balign 16
	.skip 16384
stack_top:
	.section .note.GNU-stack, "", @progbits
