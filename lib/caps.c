/*
 * File capabilities: the security.capability xattr (struct vfs_cap_data and
 * vfs_ns_cap_data in linux/capability.h), all fields little-endian.
 */
#include <string.h>

#include "private.h"

#define VFS_CAP_REVISION_MASK 0xFF000000u
#define VFS_CAP_FLAGS_EFFECTIVE 0x000001u
#define VFS_CAP_REVISION_1 0x01000000u
#define VFS_CAP_REVISION_2 0x02000000u
#define VFS_CAP_REVISION_3 0x03000000u

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int dd_caps_decode(struct dd_caps *out, const unsigned char *v, size_t len)
{
	uint32_t magic;

	memset(out, 0, sizeof(*out));
	if (!v || len < 4)
		return DD_EFORMAT;
	magic = le32(v);
	out->effective = (magic & VFS_CAP_FLAGS_EFFECTIVE) != 0;
	switch (magic & VFS_CAP_REVISION_MASK) {
	case VFS_CAP_REVISION_1:
		if (len != 12)
			return DD_EFORMAT;
		out->revision = 1;
		out->permitted = le32(v + 4);
		out->inheritable = le32(v + 8);
		return 0;
	case VFS_CAP_REVISION_2:
	case VFS_CAP_REVISION_3:
		if (len != 20 && len != 24)
			return DD_EFORMAT;
		out->revision = (magic & VFS_CAP_REVISION_MASK) == VFS_CAP_REVISION_2 ? 2 : 3;
		if ((out->revision == 3) != (len == 24))
			return DD_EFORMAT;
		out->permitted = le32(v + 4) | (uint64_t)le32(v + 12) << 32;
		out->inheritable = le32(v + 8) | (uint64_t)le32(v + 16) << 32;
		if (out->revision == 3) {
			out->has_rootid = true;
			out->rootid = le32(v + 20);
		}
		return 0;
	default:
		return DD_EFORMAT;
	}
}

static const char *const cap_names[] = {
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
	"cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap",
	"cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
	"cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace",
	"cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod",
	"cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
	"cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf",
	"cap_checkpoint_restore",
};

const char *dd_cap_name(unsigned cap)
{
	return cap < DD_ARRAY_SIZE(cap_names) ? cap_names[cap] : NULL;
}
