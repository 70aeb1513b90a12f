package lb.dataplane.packet;

import lb.dataplane.checksum.Checksums;
import org.agrona.MutableDirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The frames of lb's TCP health checks: a half-open SYN from the gateway address to a backend's
 * port, and the RST that frees the backend's half-open connection after its SYN-ACK.
 *
 * <p><b>Why these source ports are lb's own.</b> A NAT flow's return key is
 * {@code backend:bport -> client:cport}, and no client is lb's gateway address (that address
 * lives on the server side, and neither VIPs nor route prefixes may hold it), so no legitimate
 * flow has {@code gatewayIp:port} as its far end. The pipeline hands the server side's TCP to
 * {@code gatewayIp} in this range to the control thread before any flow lookup, so even a client
 * spoofing the gateway address cannot capture a check's reply. The checks use a dedicated range,
 * {@link #FIRST_SOURCE_PORT} to {@link #FIRST_SOURCE_PORT} + {@link #SOURCE_PORT_COUNT} - 1, so
 * the dataplane recognises a check's reply by two compares and each probe can take the next port
 * (a late answer to an earlier probe then names a port no longer awaited).
 *
 * <p>IPv6 backends get the same frames from gateway-ip6 ({@link #writeSyn6}, {@link #writeRst6}): a fixed
 * IPv6 header with no extension headers, the same TCP header, and the TCP checksum over the IPv6
 * pseudo-header (RFC 8200 section 8.1). The same port range serves both families, and the same
 * argument holds: no NAT66 flow's far end is gateway-ip6.
 */
public final class TcpCheckFrames
{
    /** First source port of the checks. */
    public static final int FIRST_SOURCE_PORT = 61000;
    /** Ports in the range: one per probe in turn. */
    public static final int SOURCE_PORT_COUNT = 1024;
    /** Ethernet + IPv4 + TCP without options. */
    public static final int FRAME_LENGTH =
        EthernetHeader.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + TcpHeader.MIN_HEADER_LENGTH;

    /** Ethernet + IPv6 (no extension headers) + TCP without options. */
    public static final int FRAME_LENGTH6 =
        EthernetHeader.HEADER_LENGTH + Ipv6Header.HEADER_LENGTH + TcpHeader.MIN_HEADER_LENGTH;

    private static final int IP_OFFSET = EthernetHeader.HEADER_LENGTH;
    private static final int TCP_OFFSET = IP_OFFSET + Ipv4Header.MIN_HEADER_LENGTH;
    private static final int TCP_OFFSET6 = IP_OFFSET + Ipv6Header.HEADER_LENGTH;
    /** The IPv4 TTL and the IPv6 hop limit: the frames cross one LAN, any value above 1 would do. */
    private static final int TTL = 64;
    /** The SYN's advertised window; the connection never carries data. */
    private static final int SYN_WINDOW = 1024;
    /** Data offset 5 words: no options. */
    private static final int DATA_OFFSET_NO_OPTIONS = 5 << 4;

    private TcpCheckFrames()
    {
    }

    /** @return whether a TCP port is one of the checks' source ports. */
    public static boolean isCheckPort(final int port)
    {
        return port - FIRST_SOURCE_PORT >= 0 && port - FIRST_SOURCE_PORT < SOURCE_PORT_COUNT;
    }

    /** A SYN (no options) from {@code srcIp:srcPort} to {@code dstIp:dstPort} with sequence number {@code seq}. */
    public static int writeSyn(final MutableDirectBuffer buffer, final int offset, final long srcMac, final long dstMac,
        final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int seq)
    {
        return write(buffer, offset, srcMac, dstMac, srcIp, dstIp, srcPort, dstPort, seq, TcpHeader.SYN, SYN_WINDOW);
    }

    /**
     * An RST with sequence number {@code seq} (the SYN-ACK's acknowledgement number, which is
     * what the backend's half-open connection expects) and no ACK, window 0.
     */
    public static int writeRst(final MutableDirectBuffer buffer, final int offset, final long srcMac, final long dstMac,
        final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int seq)
    {
        return write(buffer, offset, srcMac, dstMac, srcIp, dstIp, srcPort, dstPort, seq, TcpHeader.RST, 0);
    }

    /** The IPv6 {@link #writeSyn}: from {@code src:srcPort} to {@code dst:dstPort}, addresses as two 64-bit halves. */
    public static int writeSyn6(final MutableDirectBuffer buffer, final int offset, final long srcMac, final long dstMac,
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort, final int dstPort,
        final int seq)
    {
        return write6(buffer, offset, srcMac, dstMac, srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, seq,
            TcpHeader.SYN, SYN_WINDOW);
    }

    /** The IPv6 {@link #writeRst}. */
    public static int writeRst6(final MutableDirectBuffer buffer, final int offset, final long srcMac, final long dstMac,
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort, final int dstPort,
        final int seq)
    {
        return write6(buffer, offset, srcMac, dstMac, srcHigh, srcLow, dstHigh, dstLow, srcPort, dstPort, seq,
            TcpHeader.RST, 0);
    }

    private static int write(final MutableDirectBuffer buffer, final int offset, final long srcMac, final long dstMac,
        final int srcIp, final int dstIp, final int srcPort, final int dstPort, final int seq,
        final int flags, final int window)
    {
        EthernetHeader.write(buffer, offset, dstMac, srcMac, EthernetHeader.ETHER_TYPE_IPV4);
        Ipv4Header.write(buffer, offset + IP_OFFSET, Ipv4Header.MIN_HEADER_LENGTH + TcpHeader.MIN_HEADER_LENGTH, TTL,
            Ipv4Header.PROTOCOL_TCP, srcIp, dstIp);
        final int tcp = offset + TCP_OFFSET;
        writeTcp(buffer, tcp, srcPort, dstPort, seq, flags, window);
        buffer.putShort(tcp + TcpHeader.CHECKSUM_OFFSET, (short)Checksums.l4Checksum(buffer, offset + IP_OFFSET, tcp,
            TcpHeader.MIN_HEADER_LENGTH, Checksums.PROTOCOL_TCP), BIG_ENDIAN);
        return FRAME_LENGTH;
    }

    private static int write6(final MutableDirectBuffer buffer, final int offset, final long srcMac, final long dstMac,
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int srcPort, final int dstPort,
        final int seq, final int flags, final int window)
    {
        EthernetHeader.write(buffer, offset, dstMac, srcMac, Ipv6Header.ETHER_TYPE_IPV6);
        Ipv6Header.write(buffer, offset + IP_OFFSET, TcpHeader.MIN_HEADER_LENGTH, Checksums.PROTOCOL_TCP, TTL,
            srcHigh, srcLow, dstHigh, dstLow);
        final int tcp = offset + TCP_OFFSET6;
        writeTcp(buffer, tcp, srcPort, dstPort, seq, flags, window);
        buffer.putShort(tcp + TcpHeader.CHECKSUM_OFFSET, (short)Checksums.ipv6L4Checksum(buffer, offset + IP_OFFSET, tcp,
            TcpHeader.MIN_HEADER_LENGTH, Checksums.PROTOCOL_TCP), BIG_ENDIAN);
        return FRAME_LENGTH6;
    }

    /** The TCP header without options, its checksum left 0 for the family's pseudo-header sum. */
    private static void writeTcp(final MutableDirectBuffer buffer, final int tcp, final int srcPort, final int dstPort,
        final int seq, final int flags, final int window)
    {
        buffer.putShort(tcp + TcpHeader.SOURCE_PORT_OFFSET, (short)srcPort, BIG_ENDIAN);
        buffer.putShort(tcp + TcpHeader.DESTINATION_PORT_OFFSET, (short)dstPort, BIG_ENDIAN);
        buffer.putInt(tcp + TcpHeader.SEQUENCE_OFFSET, seq, BIG_ENDIAN);
        buffer.putInt(tcp + TcpHeader.ACKNOWLEDGEMENT_OFFSET, 0, BIG_ENDIAN); // no ACK flag: the field is unused
        buffer.putByte(tcp + TcpHeader.DATA_OFFSET_OFFSET, (byte)DATA_OFFSET_NO_OPTIONS);
        buffer.putByte(tcp + TcpHeader.FLAGS_OFFSET, (byte)flags);
        buffer.putShort(tcp + TcpHeader.WINDOW_OFFSET, (short)window, BIG_ENDIAN);
        buffer.putShort(tcp + TcpHeader.CHECKSUM_OFFSET, (short)0, BIG_ENDIAN);
        buffer.putShort(tcp + TcpHeader.URGENT_POINTER_OFFSET, (short)0, BIG_ENDIAN);
    }
}
