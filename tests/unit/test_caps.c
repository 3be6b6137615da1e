/*
 * Unit tests for lib/caps.c: decoding the security.capability xattr
 * (struct vfs_cap_data / vfs_ns_cap_data, little-endian; capabilities(7)).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "driftdiff.h"

#define REV1 0x01000000u
#define REV2 0x02000000u
#define REV3 0x03000000u
#define EFFECTIVE 0x000001u

static void le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/*
 * Build a value: magic, then (permitted, inheritable) pairs for the low
 * and high 32 bits, then the root uid for revision 3. Returns its length.
 */
static size_t build(unsigned char *v, uint32_t magic, uint64_t permitted, uint64_t inheritable,
		    uint32_t rootid)
{
	uint32_t rev = magic & 0xff000000u;

	le32(v, magic);
	le32(v + 4, (uint32_t)permitted);
	le32(v + 8, (uint32_t)inheritable);
	if (rev == REV1)
		return 12;
	le32(v + 12, (uint32_t)(permitted >> 32));
	le32(v + 16, (uint32_t)(inheritable >> 32));
	if (rev == REV2)
		return 20;
	le32(v + 20, rootid);
	return 24;
}

static int decode(const unsigned char *v, size_t len)
{
	struct dd_caps c;

	return dd_caps_decode(&c, v, len);
}

/* Revision 2 (20 bytes): 64-bit sets split in two 32-bit halves, no root id. */
static void test_revision2(void **state)
{
	unsigned char v[24];
	struct dd_caps c;
	size_t len;
	uint64_t perm = (1ull << 13) | (1ull << 10) | (1ull << 40);

	(void)state;
	len = build(v, REV2 | EFFECTIVE, perm, 1ull << 0, 0);
	assert_int_equal(len, 20);
	assert_int_equal(dd_caps_decode(&c, v, len), 0);
	assert_int_equal(c.revision, 2);
	assert_true(c.effective);
	assert_true(c.permitted == perm);
	assert_true(c.inheritable == 1);
	assert_false(c.has_rootid);
	assert_int_equal(c.rootid, 0);
}

/* The exact bytes setcap writes for cap_net_raw+ep (getcap /bin/ping). */
static void test_revision2_raw_bytes(void **state)
{
	static const unsigned char v[20] = {
		0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct dd_caps c;

	(void)state;
	assert_int_equal(dd_caps_decode(&c, v, sizeof(v)), 0);
	assert_int_equal(c.revision, 2);
	assert_true(c.effective);
	assert_true(c.permitted == (1ull << 13));
	assert_true(c.inheritable == 0);
}

/* Revision 3 (24 bytes) adds the namespace root uid. */
static void test_revision3(void **state)
{
	unsigned char v[24];
	struct dd_caps c;
	size_t len;

	(void)state;
	len = build(v, REV3, 1ull << 21, 1ull << 33, 100000);
	assert_int_equal(len, 24);
	assert_int_equal(dd_caps_decode(&c, v, len), 0);
	assert_int_equal(c.revision, 3);
	assert_false(c.effective);
	assert_true(c.permitted == (1ull << 21));
	assert_true(c.inheritable == (1ull << 33));
	assert_true(c.has_rootid);
	assert_int_equal(c.rootid, 100000);
}

/* Revision 1 (12 bytes): 32-bit sets. */
static void test_revision1(void **state)
{
	unsigned char v[24];
	struct dd_caps c;
	size_t len;

	(void)state;
	len = build(v, REV1 | EFFECTIVE, 0xffffffffull, 0, 0);
	assert_int_equal(len, 12);
	assert_int_equal(dd_caps_decode(&c, v, len), 0);
	assert_int_equal(c.revision, 1);
	assert_true(c.effective);
	assert_true(c.permitted == 0xffffffffull);
	assert_false(c.has_rootid);
}

/* Each revision has exactly one length; anything else is malformed. */
static void test_bad_lengths(void **state)
{
	unsigned char v[32];

	(void)state;
	memset(v, 0, sizeof(v));
	build(v, REV2, 1, 0, 0);
	assert_int_equal(decode(v, 24), DD_EFORMAT);   /* revision 2 with a root id */
	assert_int_equal(decode(v, 19), DD_EFORMAT);
	assert_int_equal(decode(v, 21), DD_EFORMAT);
	assert_int_equal(decode(v, 12), DD_EFORMAT);
	build(v, REV3, 1, 0, 5);
	assert_int_equal(decode(v, 20), DD_EFORMAT);   /* revision 3 without one */
	assert_int_equal(decode(v, 25), DD_EFORMAT);
	build(v, REV1, 1, 0, 0);
	assert_int_equal(decode(v, 20), DD_EFORMAT);
	assert_int_equal(decode(v, 11), DD_EFORMAT);
	assert_int_equal(decode(v, 3), DD_EFORMAT);
	assert_int_equal(decode(v, 0), DD_EFORMAT);
	assert_int_equal(decode(NULL, 20), DD_EFORMAT);
}

/* Unknown revisions are refused. */
static void test_bad_revision(void **state)
{
	unsigned char v[24];

	(void)state;
	memset(v, 0, sizeof(v));
	le32(v, 0x04000000u);
	assert_int_equal(decode(v, 24), DD_EFORMAT);
	le32(v, 0x00000001u);
	assert_int_equal(decode(v, 20), DD_EFORMAT);
}

static void test_cap_names(void **state)
{
	(void)state;
	assert_string_equal(dd_cap_name(13), "cap_net_raw");
	assert_string_equal(dd_cap_name(0), "cap_chown");
	assert_string_equal(dd_cap_name(21), "cap_sys_admin");
	assert_string_equal(dd_cap_name(40), "cap_checkpoint_restore");
	assert_null(dd_cap_name(41));
	assert_null(dd_cap_name(63));
	assert_null(dd_cap_name(1000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revision2),
		cmocka_unit_test(test_revision2_raw_bytes),
		cmocka_unit_test(test_revision3),
		cmocka_unit_test(test_revision1),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_bad_revision),
		cmocka_unit_test(test_cap_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
