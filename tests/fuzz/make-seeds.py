#!/usr/bin/env python3
"""Regenerate the seed corpora in tests/fuzz/corpus/ from fixtures/.

Usage: tests/fuzz/make-seeds.py   (from anywhere; rewrites corpus/ only)

Seeds are small by design (the committed corpus stays well under 1 MB):
layer blobs and archives from the fixtures, their JSON documents, a few
digests, names and op lists. Each file is named after its SHA-1, as
libFuzzer names corpus entries.
"""
import glob
import hashlib
import json
import os
import shutil
import struct
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, '..', '..', 'fixtures')
OUT = os.path.join(HERE, 'corpus')
MAX_SEED = 64 * 1024


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED:
        return
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), 'wb') as f:
        f.write(data)


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def blobs(layout):
    return {os.path.basename(p): read(p) for p in glob.glob(os.path.join(FIX, layout, 'blobs/sha256/*'))}


def is_json(b):
    try:
        json.loads(b)
        return True
    except ValueError:
        return False


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    layouts = ['oci-whiteouts', 'oci-multi', 'oci-zstd', 'oci-umoci']

    # layer_tar: every layer blob, and the small image archives.
    for lay in layouts:
        for name, b in blobs(lay).items():
            if not is_json(b):
                put('layer_tar', b)
    for a in ['docker-25.tar', 'docker-containerd.tar', 'oci-archive.tar', 'docker-legacy.tar',
              'bad/not-an-image.tar']:
        put('layer_tar', read(os.path.join(FIX, a)))

    # json: index.json, manifests, configs, docker manifest.json.
    for lay in layouts:
        put('json', read(os.path.join(FIX, lay, 'index.json')))
        for name, b in blobs(lay).items():
            if is_json(b):
                put('json', b)
    with tarfile.open(os.path.join(FIX, 'docker-25.tar')) as t:
        for m in ['manifest.json', 'index.json']:
            put('json', t.extractfile(m).read())
    for s in ['{}', '[]', '{"manifests":[]}', '[{"Config":"x","Layers":[]}]',
              '{"a":1e400}', '{"a":"\\u0000"}', '[' * 70 + ']' * 70]:
        put('json', s)

    # digest
    for s in ['sha256:' + 'a' * 64, 'sha512:' + '0' * 128, 'sha256:' + 'A' * 64,
              'sha256:../../etc/passwd', 'sha256:' + 'a' * 63, 'sha256:' + 'a' * 64 + '\0',
              'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
              'sha384:' + 'b' * 96, 'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564']:
        put('digest', s)

    # index: documents joined by "\n--\n" with @DN/@SN references (see fuzz_index.c).
    def chain(lay):
        idx = json.loads(read(os.path.join(FIX, lay, 'index.json')))
        bl = blobs(lay)
        parts = [None]
        refs = {}

        def ref(digest):
            h = digest.split(':', 1)[1]
            if h not in refs:
                refs[h] = len(parts)
                parts.append(None)
                doc = bl[h]
                if is_json(doc):
                    doc = rewrite(json.loads(doc)).encode()
                parts[refs[h]] = doc
            return refs[h]

        def rewrite(o):
            for key in ('manifests', 'layers'):
                for d in o.get(key, []) if isinstance(o.get(key), list) else []:
                    n = ref(d['digest'])
                    d['digest'] = '@D%d' % n
                    d['size'] = '@S%d' % n
            if isinstance(o.get('config'), dict) and 'digest' in o['config']:
                n = ref(o['config']['digest'])
                o['config']['digest'] = '@D%d' % n
                o['config']['size'] = '@S%d' % n
            return json.dumps(o).replace('"@S', '@S').replace('"@D', '"@D')

        top = rewrite(idx)
        parts[0] = top.encode()
        # "@S1" was written as a string: unquote it.
        out = []
        for p in parts:
            s = p
            for i in range(1, 10):
                s = s.replace(b'@S%d"' % i, b'@S%d' % i)
            out.append(s)
        if len(out) <= 10:
            put('index', b'\n--\n'.join(out))

    for lay in ['oci-whiteouts', 'oci-zstd', 'oci-umoci']:
        chain(lay)
    put('index', '{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json",'
                 '"digest":"@D1","size":@S1}]}\n--\n{"manifests":[]}')

    # whiteout: (kind, path, mode) triples, see fuzz_whiteout.c.
    def ops(*triples):
        return bytes(b & 0xff for t in triples for b in t)
    FILE, DIR, SYM, WH, OPQ, NEXT, HARD = range(7)
    put('whiteout', ops((DIR, 0, 0o755), (FILE, 3 + 1, 0o644), (NEXT, 0, 0), (WH, 0, 0)))
    put('whiteout', ops((FILE, 4, 0o644), (FILE, 7, 0o600), (NEXT, 0, 0), (OPQ, 1, 0),
                        (FILE, 7, 0o644), (NEXT, 0, 0), (WH, 4, 0)))
    put('whiteout', ops((SYM, 0, 0o777), (FILE, 4, 0o644), (HARD, 1, 4), (NEXT, 0, 0),
                        (DIR, 0, 0o700), (WH, 1, 0), (HARD, 2, 1)))

    # path
    for s in [b'./a//b/', b'/a/b', b'a/b', b'../x', b'a/../b', b'.', b'', b'/', b'a/./b/.',
              b'a\0b', b'...', b'..a/b..']:
        put('path', s)

    # escape
    for s in [b'plain', b'tab\there', b'new\nline', b'"quoted" \\', b'\xff\xfe', b'\xc3\xa9t\xc3\xa9',
              b'\xe2\x80\xae bidi', b'\x1b[31mred', b'\xed\xa0\x80', b'\xf4\x90\x80\x80',
              b'two  spaces', b'a -> b', b'QUJD', b'\0']:
        put('escape', s)

    # report: NUL-separated entries, each a control byte then a path.
    put('report', b'\x00etc/passwd\x00\x01etc/passwd\x00\x09usr/bin/\xffx\x00\x05l\xe2\x80\xaeink\x00\x02dir')
    # proc: a selector byte (0 stat, 1 tcp, 2 udp6, 3 mountinfo, 4 exe link NUL root), then the text.
    put('proc', b'\x004242 (evil) (x) R 17 4242 4242 34816 4242 4194560 100 0 0 0 3 1 0 0 20 0 1 0 98765 1000\n')
    put('proc', b'\x01   0: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 9001 1\n')
    put('proc', b'\x02  1: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 07 '
                b'00000000:00000000 00:00000000 00000000 0 0 9005 2 0 0\n')
    put('proc', b'\x03640 612 253:1 /var/lib/my\\040vol /data\\040dir rw,relatime shared:1 - ext4 /dev/vda1 rw')
    put('proc', b'\x04/srv/ctr/rootfs/tmp/x (deleted)\x00/srv/ctr/rootfs')
    put('proc', b'\x05/memfd:payload (deleted)\x00/')
    # live: a fake /proc's files separated by "\n--\n" (see fuzz_live.c).
    put('live', b'\n--\n'.join([
        b'100 (tool) S 0 100 100 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 500 1 1\n',
        b'/usr/bin/tool\0--serve\0--verbose\0',
        b'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\0APP_MODE=debug\0SECRET=x\0',
        b'Name:\ttool\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t100\t1\n',
        b'  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n'
        b'   0: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1\n'
        b'   1: 0200000A:9C40 050071CB:01BB 01 00000000:00000000 00:00000000 00000000     0        0 9003 1\n',
        b'1 0 0:50 / / rw - overlay overlay rw\n2 1 253:1 /vols/data /data rw - ext4 /dev/vda1 rw\n',
        b'101 (-bash) S 100 101 101 34816 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 600 1 1\n',
        b'-bash\0-i\0']))
    put('report', b'\x81bin/su\x00\x80bin/su\x00\x01new\nline\x00\x01tab\tx')


if __name__ == '__main__':
    main()
