package lb.dataplane.packet;

/**
 * What {@link FrameClassifier} found in one frame: a mutable holder reused for every frame, with
 * public fields in the Agrona style. Offsets are absolute indexes into the classified buffer.
 * Addresses and ports follow the project conventions (IPv4 as a big-endian int, MAC in the low 48
 * bits of a long, ports 0..65535).
 * <p>
 * {@link FrameClassifier#classify} resets every field before it fills what the frame has, except
 * {@link #l4ChecksumPartial}: that flag is a fact the I/O layer knows about the frame (from the
 * ring's status word) and sets just before or after classifying, so the classifier leaves it as
 * it is. The I/O layer must therefore set it, true or false, for every frame.
 * <p>
 * For IPv6 the same fields hold the IPv6 values where IPv4 has a counterpart ({@link #ttl} is the
 * hop limit, {@link #ipHeaderLength} the fixed header and the extension headers passed over,
 * {@link #ipTotalLength} the fixed header plus the payload length, {@link #l4Length} the upper
 * layer's length); the addresses are in {@link #srcHigh} to {@link #dstLow}, and {@link #srcIp}
 * and {@link #dstIp} stay 0. {@link #etherType} tells the families apart.
 * <p>
 * The fields describe the frame as received. A rewrite changes the buffer, not these fields,
 * except that it clears {@link #l4ChecksumPartial} once it has written a full L4 checksum and sets
 * {@link #dropReason} when it refuses a frame.
 */
public final class ParsedFrame
{
    /** Value of {@link #vlanId} and {@link #innerVlanId} when there is no such tag. */
    public static final int NO_VLAN = -1;

    /** Index of the frame's first byte. */
    public int frameOffset;
    /** Length of the frame in the buffer (may include Ethernet padding after the IP datagram). */
    public int frameLength;
    /** VLAN id of the first (outer) tag, or {@link #NO_VLAN}. */
    public int vlanId;
    /** VLAN id of the second (inner) tag of a double-tagged frame, or {@link #NO_VLAN}. */
    public int innerVlanId;
    /** Ethertype after any VLAN tags. */
    public int etherType;
    /** Index of the ARP packet or IPv4 header. */
    public int l3Offset;

    /** Index of the TCP, UDP, ICMP or ICMPv6 header. */
    public int l4Offset;
    /** IPv4 header length in bytes (IHL * 4); IPv6: 40 plus the extension headers passed over. */
    public int ipHeaderLength;
    /** IPv4 total length; IPv6: 40 plus the payload length. */
    public int ipTotalLength;
    /** IPv4 TTL, or IPv6 hop limit, on arrival. */
    public int ttl;
    /** IPv4 protocol number, or IPv6 upper-layer protocol (after the extension headers). */
    public int protocol;
    /** IPv4 source address (0 for IPv6). */
    public int srcIp;
    /** IPv4 destination address. */
    public int dstIp;
    /** IPv6 source address, high 64 bits (big-endian, as {@link Ipv6Header#sourceHigh} reads it). */
    public long srcHigh;
    /** IPv6 source address, low 64 bits. */
    public long srcLow;
    /** IPv6 destination address, high 64 bits. */
    public long dstHigh;
    /** IPv6 destination address, low 64 bits. */
    public long dstLow;
    /** TCP/UDP source port (0 otherwise). */
    public int srcPort;
    /** TCP/UDP destination port (0 otherwise). */
    public int dstPort;
    /** TCP flags byte (0 otherwise). */
    public int tcpFlags;
    /** IPv4 payload length: total length - IHL * 4 (the L4 header and its data); IPv6: the upper layer's length. */
    public int l4Length;
    /** ICMP type (0 otherwise; 0 is also echo reply, so check the frame type first). */
    public int icmpType;
    /** ICMP code (0 otherwise). */
    public int icmpCode;

    /** ARP operation (1 request, 2 reply; 0 otherwise). */
    public int arpOp;
    /** ARP sender MAC. */
    public long senderMac;
    /** ARP sender IPv4 address. */
    public int senderIp;
    /** ARP target MAC. */
    public long targetMac;
    /** ARP target IPv4 address. */
    public int targetIp;

    /** Why the frame is dropped, or null while it is not. */
    public DropReason dropReason;

    /** The classifier's walk over IPv6 extension headers: its fields say where the last IPv6 frame's walk stopped. */
    final Ipv6ExtensionWalk extensions = new Ipv6ExtensionWalk();

    /**
     * Set by the I/O layer, not by the classifier: the L4 checksum field holds only the
     * pseudo-header sum (TP_STATUS_CSUMNOTREADY, checksum offload on the sending side), so a
     * rewrite must compute the full checksum rather than update it. Cleared by the rewrite that
     * does so.
     */
    public boolean l4ChecksumPartial;

    /**
     * Set by the I/O layer, not by the classifier: the frame leaves with its virtio-net header
     * (PACKET_VNET_HDR), so the kernel completes a partial L4 checksum on transmit (and segments
     * a GSO frame). A rewrite then keeps a partial checksum partial, adjusting the pseudo-header
     * sum, instead of computing the full checksum over up to 64 KiB.
     */
    public boolean txCompletesChecksum;

    /** Reset every field except {@link #l4ChecksumPartial} and {@link #txCompletesChecksum} to its "absent" value. */
    public void reset()
    {
        frameOffset = 0;
        frameLength = 0;
        vlanId = NO_VLAN;
        innerVlanId = NO_VLAN;
        etherType = 0;
        l3Offset = 0;
        l4Offset = 0;
        ipHeaderLength = 0;
        ipTotalLength = 0;
        ttl = 0;
        protocol = 0;
        srcIp = 0;
        dstIp = 0;
        srcHigh = 0;
        srcLow = 0;
        dstHigh = 0;
        dstLow = 0;
        srcPort = 0;
        dstPort = 0;
        tcpFlags = 0;
        l4Length = 0;
        icmpType = 0;
        icmpCode = 0;
        arpOp = 0;
        senderMac = 0;
        senderIp = 0;
        targetMac = 0;
        targetIp = 0;
        dropReason = null;
    }

    /** @return the fields for test failures and debugging (allocates). */
    public String toString()
    {
        return "ParsedFrame{" +
            "frameOffset=" + frameOffset +
            ", frameLength=" + frameLength +
            ", vlanId=" + vlanId +
            ", innerVlanId=" + innerVlanId +
            ", etherType=0x" + Integer.toHexString(etherType) +
            ", l3Offset=" + l3Offset +
            ", l4Offset=" + l4Offset +
            ", ipHeaderLength=" + ipHeaderLength +
            ", ipTotalLength=" + ipTotalLength +
            ", ttl=" + ttl +
            ", protocol=" + protocol +
            ", srcIp=" + Ipv4Header.addressToString(srcIp) +
            ", dstIp=" + Ipv4Header.addressToString(dstIp) +
            ", src6=" + Ipv6Header.addressToString(srcHigh, srcLow) +
            ", dst6=" + Ipv6Header.addressToString(dstHigh, dstLow) +
            ", srcPort=" + srcPort +
            ", dstPort=" + dstPort +
            ", tcpFlags=0x" + Integer.toHexString(tcpFlags) +
            ", l4Length=" + l4Length +
            ", icmpType=" + icmpType +
            ", icmpCode=" + icmpCode +
            ", arpOp=" + arpOp +
            ", senderMac=0x" + Long.toHexString(senderMac) +
            ", senderIp=" + Ipv4Header.addressToString(senderIp) +
            ", targetMac=0x" + Long.toHexString(targetMac) +
            ", targetIp=" + Ipv4Header.addressToString(targetIp) +
            ", dropReason=" + dropReason +
            ", l4ChecksumPartial=" + l4ChecksumPartial +
            '}';
    }
}
