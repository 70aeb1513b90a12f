/**
 * Packet I/O: a jnr-ffi binding to libc ({@link lb.dataplane.io.LibC}), interface lookup
 * ({@link lb.dataplane.io.InterfaceInfo}), AF_PACKET sockets with PACKET_MMAP RX and TX rings
 * ({@link lb.dataplane.io.PacketSocket}, configured by {@link lb.dataplane.io.RingConfig}), a
 * ring-less sender for one-off frames ({@link lb.dataplane.io.RawSender}), the virtio-net header
 * flyweight ({@link lb.dataplane.io.VnetHeader}) and running code inside a named network namespace
 * ({@link lb.dataplane.io.NetNs}).
 * <p>
 * Behaviour measured on Linux 6.18 (veth, offloads on), which the code relies on:
 * <ul>
 *   <li>PACKET_VNET_HDR works with TPACKET_V2 and TPACKET_V3 rings, for RX and for TX. On RX a
 *   TCP super-frame (up to 65226 bytes seen) arrives whole with gso_type TCPV4, gso_size 1448,
 *   hdr_len 66, flags NEEDS_CSUM, csum_start 34, csum_offset 16 and ring status
 *   CSUMNOTREADY | GSO_TCP (0x108); its TCP checksum field holds the folded pseudo-header sum
 *   (not inverted). Sent back through a vnet TX ring with the same header, the kernel segments it
 *   and completes the checksum: a 16 MiB TCP transfer bridged this way keeps its SHA-256.</li>
 *   <li>Without vnet headers the partial checksums are forwarded as they are and the receiver
 *   drops them (not even the TCP handshake completes through a plain bridge).</li>
 *   <li>A packet socket never receives its own transmissions (the kernel skips the sending socket,
 *   with fanout the whole group). PACKET_IGNORE_OUTGOING, or PACKET_FANOUT_FLAG_IGNORE_OUTGOING in
 *   a fanout group, keeps out the frames that other local senders put on the interface.</li>
 *   <li>When the device drops a frame sent from a TX ring, the kernel puts the frame back to
 *   SEND_REQUEST without advancing its ring head and retries it on every kick. A frame the device
 *   always drops (longer than the MTU allows, possible only with vnet headers, which lift the
 *   kernel's own length check) would block the TX ring for good, so
 *   {@link lb.dataplane.io.PacketSocket#send} refuses such frames. PACKET_LOSS makes the kernel skip
 *   frames it rejects itself instead of stopping the ring at a WRONG_FORMAT frame.</li>
 *   <li>A PACKET_FANOUT_CBPF group takes its program with PACKET_FANOUT_DATA ({@code struct
 *   sock_fprog}) only after the socket has joined (EINVAL before); the program is the group's, so
 *   any member sets it, and without one every frame goes to the first member. The program runs on
 *   the skb as it arrives, with {@code skb->data} at the IP header (link-layer header pulled) and a
 *   VLAN tag already taken out: {@link lb.dataplane.io.FanoutProgram} therefore reads through
 *   {@code SKF_NET_OFF} and the protocol ancillary load (IPv4 and IPv6 alike). Its result modulo the group's size picks
 *   the member, in join order. All members must pass the same flags (else EINVAL). (Join order,
 *   data offset and VLAN handling are checked by FanoutSteeringTest; the rest is read from
 *   net/packet/af_packet.c.)</li>
 *   <li>The kernel truncates an RX frame that does not fit (V2: the frame slot minus 66 bytes of
 *   headers, 76 with vnet; V3: the block) and reports it with snaplen below len.</li>
 * </ul>
 */
package lb.dataplane.io;
