-- Address translation (issue 9): the endpoints a device saw on the other
-- side of a NAT. src_ip/dst_ip stay the real endpoints (the ones zones are
-- declared in); these are the mapped ones, '::' and NULL when the device
-- logged no translation of that endpoint.
ALTER TABLE events
    ADD COLUMN IF NOT EXISTS src_mapped_ip IPv6 AFTER dst_port,
    ADD COLUMN IF NOT EXISTS src_mapped_port Nullable(UInt16) AFTER src_mapped_ip,
    ADD COLUMN IF NOT EXISTS dst_mapped_ip IPv6 AFTER src_mapped_port,
    ADD COLUMN IF NOT EXISTS dst_mapped_port Nullable(UInt16) AFTER dst_mapped_ip;
