/* Constants shared by the probes' C and assembly code. */
#ifndef SHELTER_PROBE_LAYOUT_H
#define SHELTER_PROBE_LAYOUT_H

/* Where the AP start-up code is copied: the page SIPI vector 0x10 names. */
#define PROBE_TRAMPOLINE_BASE 0x10000
#define PROBE_SIPI_VECTOR 0x10
/* Application processors the probe can start (one 4 KiB stack each). */
#define PROBE_MAX_APS 7

#endif
