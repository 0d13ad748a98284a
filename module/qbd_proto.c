// SPDX-License-Identifier: GPL-2.0
/*
 * qbd: encoding and checking of wire headers.  Pure functions, so the
 * KUnit suite can pin them down without a socket.
 */
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/string.h>

#include "qbd.h"

void qbd_encode_req(struct qbd_req_hdr *hdr, u16 opcode, u32 flags,
		    u32 length, u64 tag, u64 volume_id, u64 epoch, u64 offset)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->magic = cpu_to_le32(QBD_PROTO_MAGIC);
	hdr->version = cpu_to_le16(QBD_PROTO_VERSION);
	hdr->opcode = cpu_to_le16(opcode);
	hdr->flags = cpu_to_le32(flags);
	hdr->length = cpu_to_le32(length);
	hdr->tag = cpu_to_le64(tag);
	hdr->volume_id = cpu_to_le64(volume_id);
	hdr->epoch = cpu_to_le64(epoch);
	hdr->offset = cpu_to_le64(offset);
}
EXPORT_SYMBOL_GPL(qbd_encode_req);

/*
 * Returns 0 when the header is one this driver can act on: @flags are the
 * QBD_REQ_* flags a reply may carry, QBD_REQ_CRC where checksums were
 * agreed in HELLO.
 */
int qbd_check_reply(const struct qbd_reply_hdr *hdr, u32 flags)
{
	s32 status = (s32)le32_to_cpu(hdr->status);

	if (le32_to_cpu(hdr->magic) != QBD_PROTO_MAGIC)
		return -EPROTO;
	if (le16_to_cpu(hdr->version) != QBD_PROTO_VERSION)
		return -EPROTO;
	if (le32_to_cpu(hdr->flags) & ~flags)
		return -EPROTO;
	if (le32_to_cpu(hdr->length) > QBD_MAX_IO_BYTES)
		return -EPROTO;
	if (status > 0 || status < -MAX_ERRNO)
		return -EPROTO;
	return 0;
}
EXPORT_SYMBOL_GPL(qbd_check_reply);

/*
 * Wire tag layout: bits 0-15 blk-mq tag, 16-31 hardware queue, 32-39
 * piece index, 40-63 generation of the tag's use.
 */
u64 qbd_make_tag(u16 hwq, u16 tag, u8 piece, u32 gen)
{
	return (u64)tag | (u64)hwq << 16 | (u64)piece << 32 |
	       (u64)(gen & 0xffffff) << 40;
}
EXPORT_SYMBOL_GPL(qbd_make_tag);

void qbd_split_tag(u64 wire_tag, u16 *hwq, u16 *tag, u8 *piece, u32 *gen)
{
	*tag = wire_tag & 0xffff;
	*hwq = (wire_tag >> 16) & 0xffff;
	*piece = (wire_tag >> 32) & 0xff;
	*gen = (wire_tag >> 40) & 0xffffff;
}
EXPORT_SYMBOL_GPL(qbd_split_tag);
