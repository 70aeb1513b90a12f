package lb.benchmarks;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.packet.EthernetHeader;
import lb.dataplane.packet.Ipv4Header;
import lb.dataplane.packet.Ipv6Header;
import lb.dataplane.packet.TcpHeader;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * Builds the Ethernet + IPv4 (or IPv6) + TCP frames the benchmarks feed to the dataplane, with correct IPv4 and TCP
 * checksums, and copies frames back from a pristine image. Setup code only, except {@link #restore64}.
 */
final class TcpFrames
{
    /** Ethernet (14) + IPv4 without options (20) + TCP without options (20). */
    static final int HEADERS_LENGTH =
        EthernetHeader.HEADER_LENGTH + Ipv4Header.MIN_HEADER_LENGTH + TcpHeader.MIN_HEADER_LENGTH;

    /** The smallest frame the benchmarks use: 54 bytes of headers and 10 of payload, one cache line. */
    static final int SMALL_FRAME_LENGTH = 64;

    /** Bytes {@link #restore64} copies: every byte a NAT rewrite can change lies in the first 54. */
    static final int RESTORE_LENGTH = 64;

    /** TTL of built frames: far from the 1 that the rewrite refuses. */
    static final int TTL = 64;

    // The addresses the single-frame benchmarks use (RewriteBenchmark, TunnelBenchmark).
    static final long CLIENT_MAC = 0x0200_0000_0001L;
    static final long LB_CLIENT_MAC = 0x0200_0000_00AAL;
    static final long LB_SERVER_MAC = 0x0200_0000_00BBL;
    static final long BACKEND_MAC = 0x0200_0000_1001L;
    static final int CLIENT_IP = 0xC612_0A0B;  // 198.18.10.11
    static final int VIP = 0xC612_0064;        // 198.18.0.100

    private static final TcpHeader TCP = new TcpHeader();

    private TcpFrames()
    {
    }

    /** An off-heap buffer of {@code length} bytes on a 64-byte boundary, like a packet ring. */
    static UnsafeBuffer allocate(final int length)
    {
        return new UnsafeBuffer(BufferUtil.allocateDirectAligned(length, 64));
    }

    /**
     * Write a TCP frame of {@code frameLength} bytes at {@code offset}: headers, a payload of a repeating byte
     * pattern, and both checksums computed in full.
     */
    static void write(
        final MutableDirectBuffer buffer,
        final int offset,
        final int frameLength,
        final long dstMac,
        final long srcMac,
        final int srcIp,
        final int dstIp,
        final int srcPort,
        final int dstPort,
        final int tcpFlags)
    {
        if (frameLength < HEADERS_LENGTH)
        {
            throw new IllegalArgumentException("frame too short for the headers: " + frameLength);
        }

        final int ip = offset + EthernetHeader.write(buffer, offset, dstMac, srcMac, EthernetHeader.ETHER_TYPE_IPV4);
        final int ipTotalLength = frameLength - EthernetHeader.HEADER_LENGTH;
        final int tcp = ip + Ipv4Header.write(buffer, ip, ipTotalLength, TTL, Ipv4Header.PROTOCOL_TCP, srcIp, dstIp);
        writeTcp(buffer, tcp, offset + frameLength, srcPort, dstPort, tcpFlags);
        TCP.checksum(Checksums.l4Checksum(buffer, ip, tcp, ipTotalLength - Ipv4Header.MIN_HEADER_LENGTH, Ipv4Header.PROTOCOL_TCP));
    }

    /**
     * Write an IPv6 TCP frame of {@code frameLength} bytes at {@code offset} (no extension headers), as
     * {@link #write} does for IPv4; addresses as their high and low 64 bits.
     */
    static void writeIpv6(
        final MutableDirectBuffer buffer,
        final int offset,
        final int frameLength,
        final long dstMac,
        final long srcMac,
        final long srcHigh,
        final long srcLow,
        final long dstHigh,
        final long dstLow,
        final int srcPort,
        final int dstPort,
        final int tcpFlags)
    {
        final int ip = offset + EthernetHeader.write(buffer, offset, dstMac, srcMac, Ipv6Header.ETHER_TYPE_IPV6);
        final int tcpLength = frameLength - EthernetHeader.HEADER_LENGTH - Ipv6Header.HEADER_LENGTH;
        if (tcpLength < TcpHeader.MIN_HEADER_LENGTH)
        {
            throw new IllegalArgumentException("frame too short for the headers: " + frameLength);
        }
        final int tcp = ip + Ipv6Header.write(buffer, ip, tcpLength, Checksums.PROTOCOL_TCP, TTL, srcHigh, srcLow, dstHigh,
            dstLow);
        writeTcp(buffer, tcp, offset + frameLength, srcPort, dstPort, tcpFlags);
        TCP.checksum(Checksums.ipv6L4Checksum(buffer, ip, tcp, tcpLength, Checksums.PROTOCOL_TCP));
    }

    /** The TCP header (checksum 0, for the caller to set) and a payload of a repeating byte pattern up to {@code end}. */
    private static void writeTcp(final MutableDirectBuffer buffer, final int tcp, final int end, final int srcPort,
        final int dstPort, final int tcpFlags)
    {
        TCP.wrap(buffer, tcp)
            .sourcePort(srcPort)
            .destinationPort(dstPort)
            .sequence(0x1000_0000L + srcPort)
            .acknowledgement(tcpFlags == TcpHeader.SYN ? 0 : 0x2000_0000L)
            .headerLength(TcpHeader.MIN_HEADER_LENGTH)
            .flags(tcpFlags)
            .window(64_240)
            .checksum(0)
            .urgentPointer(0);
        for (int i = tcp + TcpHeader.MIN_HEADER_LENGTH; i < end; i++)
        {
            buffer.putByte(i, (byte)(i * 31));
        }
    }

    /**
     * Copy the first {@link #RESTORE_LENGTH} bytes of a frame back from its pristine image: eight long loads and
     * stores, no call. This is the per-operation restore the mutating benchmarks pay; it is measured on its own.
     */
    static void restore64(
        final UnsafeBuffer frame, final int frameOffset, final UnsafeBuffer pristine, final int pristineOffset)
    {
        frame.putLong(frameOffset, pristine.getLong(pristineOffset));
        frame.putLong(frameOffset + 8, pristine.getLong(pristineOffset + 8));
        frame.putLong(frameOffset + 16, pristine.getLong(pristineOffset + 16));
        frame.putLong(frameOffset + 24, pristine.getLong(pristineOffset + 24));
        frame.putLong(frameOffset + 32, pristine.getLong(pristineOffset + 32));
        frame.putLong(frameOffset + 40, pristine.getLong(pristineOffset + 40));
        frame.putLong(frameOffset + 48, pristine.getLong(pristineOffset + 48));
        frame.putLong(frameOffset + 56, pristine.getLong(pristineOffset + 56));
    }

    /** True if the frame's IPv4 header checksum and TCP checksum are both right. For setup-time checks. */
    static boolean checksumsValid(final MutableDirectBuffer buffer, final int offset, final int frameLength)
    {
        final int ip = offset + EthernetHeader.HEADER_LENGTH;
        final int tcp = ip + Ipv4Header.MIN_HEADER_LENGTH;
        final int l4Length = frameLength - EthernetHeader.HEADER_LENGTH - Ipv4Header.MIN_HEADER_LENGTH;
        final int storedTcp = buffer.getShort(tcp + TcpHeader.CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
        return Checksums.ipv4HeaderValid(buffer, ip, Ipv4Header.MIN_HEADER_LENGTH) &&
            Checksums.l4Checksum(buffer, ip, tcp, l4Length, Ipv4Header.PROTOCOL_TCP) == storedTcp;
    }

    /**
     * A bijection on 32-bit ints (murmur3's fmix32): distinct inputs give distinct, random-looking outputs, so keys
     * built from distinct indexes are distinct without a set to check them against.
     */
    static int scramble(final int value)
    {
        return lb.dataplane.sched.SourceHashScheduler.mix32(value);
    }
}
