package lb.dataplane.packet;

import java.util.Arrays;
import java.util.HexFormat;
import lb.dataplane.checksum.ReferenceChecksum;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The health checks' SYN and RST, byte by byte, checksums verified by the reference implementation; the IPv6
 * ones against golden frames built outside lb (a 20-line Python script with its own ones'-complement sum over
 * the RFC 8200 pseudo-header), and the reference checksum.
 */
class TcpCheckFramesTest
{
    static final long LB_MAC = 0x02_00_00_00_02_01L;
    static final long BACKEND_MAC = 0x02_00_00_00_03_0BL;
    static final int GATEWAY_IP = 0xC612_0101;
    static final int BACKEND_IP = 0xC612_010B;
    /** 2001:2:0:1::1, gateway-ip6. */
    static final long GATEWAY6_HIGH = 0x2001_0002_0000_0001L;
    static final long GATEWAY6_LOW = 1;
    /** 2001:2:0:1::b. */
    static final long BACKEND6_HIGH = 0x2001_0002_0000_0001L;
    static final long BACKEND6_LOW = 0xB;
    static final int TCP_OFFSET6 = EthernetHeader.HEADER_LENGTH + Ipv6Header.HEADER_LENGTH;
    /** The SYN 2001:2:0:1::1.61007 > 2001:2:0:1::b.80, seq 0x12345678, win 1024, hop limit 64: TCP checksum 0x1483. */
    static final String GOLDEN_SYN6 = "02000000030b02000000020186dd" +
        "6000000000140640" + "20010002000000010000000000000001" + "2001000200000001000000000000000b" +
        "ee4f005012345678000000005002040014830000";
    /** Its RST with seq 0xffffffff, win 0: TCP checksum 0x812d. */
    static final String GOLDEN_RST6 = "02000000030b02000000020186dd" +
        "6000000000140640" + "20010002000000010000000000000001" + "2001000200000001000000000000000b" +
        "ee4f0050ffffffff0000000050040000812d0000";

    final UnsafeBuffer frame = new UnsafeBuffer(new byte[TcpCheckFrames.FRAME_LENGTH]);

    @Test
    void synIsAnOptionlessSynWithValidChecksums()
    {
        assertEquals(54, TcpCheckFrames.writeSyn(frame, 0, LB_MAC, BACKEND_MAC, GATEWAY_IP, BACKEND_IP, 61007, 80, 0x12345678));
        final byte[] f = frame.byteArray();
        assertArrayEquals(new byte[] {2, 0, 0, 0, 3, 0x0B, 2, 0, 0, 0, 2, 1, 8, 0}, Arrays.copyOf(f, 14));
        assertEquals(0x45, f[14] & 0xFF);
        assertEquals(40, frame.getShort(16, BIG_ENDIAN));
        assertEquals(6, f[23]);
        assertEquals(GATEWAY_IP, frame.getInt(26, BIG_ENDIAN));
        assertEquals(BACKEND_IP, frame.getInt(30, BIG_ENDIAN));
        assertEquals(61007, frame.getShort(34, BIG_ENDIAN) & 0xFFFF);
        assertEquals(80, frame.getShort(36, BIG_ENDIAN) & 0xFFFF);
        assertEquals(0x12345678, frame.getInt(38, BIG_ENDIAN), "seq");
        assertEquals(0, frame.getInt(42, BIG_ENDIAN), "ack");
        assertEquals(0x50, f[46] & 0xFF, "20-byte header");
        assertEquals(TcpHeader.SYN, f[47] & 0xFF, "SYN only");
        assertChecksums(f);
        final ParsedFrame parsed = new ParsedFrame();
        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(frame, 0, 54, parsed));
    }

    @Test
    void rstCarriesTheGivenSequenceNumberAndNoAck()
    {
        TcpCheckFrames.writeRst(frame, 0, LB_MAC, BACKEND_MAC, GATEWAY_IP, BACKEND_IP, 61007, 80, 0xFFFFFFFF);
        final byte[] f = frame.byteArray();
        assertEquals(0xFFFFFFFF, frame.getInt(38, BIG_ENDIAN));
        assertEquals(TcpHeader.RST, f[47] & 0xFF, "RST only");
        assertEquals(0, frame.getShort(48, BIG_ENDIAN), "window 0");
        assertChecksums(f);
    }

    @Test
    void ipv6SynIsTheGoldenFrame()
    {
        final UnsafeBuffer frame6 = written6(true, 0x12345678);
        assertEquals(GOLDEN_SYN6, HexFormat.of().formatHex(frame6.byteArray()));
        final ParsedFrame parsed = new ParsedFrame();
        assertEquals(FrameType.IPV6_TCP, FrameClassifier.classify(frame6, 0, 74, parsed));
        assertEquals(TcpHeader.SYN, parsed.tcpFlags);
        assertEquals(61007, parsed.srcPort);
        assertEquals(BACKEND6_LOW, parsed.dstLow);
    }

    @Test
    void ipv6RstIsTheGoldenFrame()
    {
        assertEquals(GOLDEN_RST6, HexFormat.of().formatHex(written6(false, 0xFFFFFFFF).byteArray()));
    }

    /** The IPv6 SYN (or RST) from gateway-ip6:61007 to the backend's port 80, its checksum held against the reference. */
    private static UnsafeBuffer written6(final boolean syn, final int seq)
    {
        final UnsafeBuffer frame6 = new UnsafeBuffer(new byte[TcpCheckFrames.FRAME_LENGTH6]);
        assertEquals(74, syn ?
            TcpCheckFrames.writeSyn6(frame6, 0, LB_MAC, BACKEND_MAC, GATEWAY6_HIGH, GATEWAY6_LOW, BACKEND6_HIGH, BACKEND6_LOW,
                61007, 80, seq) :
            TcpCheckFrames.writeRst6(frame6, 0, LB_MAC, BACKEND_MAC, GATEWAY6_HIGH, GATEWAY6_LOW, BACKEND6_HIGH, BACKEND6_LOW,
                61007, 80, seq));
        assertChecksum6(frame6.byteArray());
        return frame6;
    }

    @Test
    void theRangeIsExactlyTheChecksPorts()
    {
        assertFalse(TcpCheckFrames.isCheckPort(TcpCheckFrames.FIRST_SOURCE_PORT - 1));
        assertTrue(TcpCheckFrames.isCheckPort(TcpCheckFrames.FIRST_SOURCE_PORT));
        assertTrue(TcpCheckFrames.isCheckPort(TcpCheckFrames.FIRST_SOURCE_PORT + TcpCheckFrames.SOURCE_PORT_COUNT - 1));
        assertFalse(TcpCheckFrames.isCheckPort(TcpCheckFrames.FIRST_SOURCE_PORT + TcpCheckFrames.SOURCE_PORT_COUNT));
        assertTrue(TcpCheckFrames.FIRST_SOURCE_PORT + TcpCheckFrames.SOURCE_PORT_COUNT <= 65536);
    }

    static void assertChecksum6(final byte[] f)
    {
        final int stored = ((f[TCP_OFFSET6 + 16] & 0xFF) << 8) | (f[TCP_OFFSET6 + 17] & 0xFF);
        assertEquals(ReferenceChecksum.ipv6L4Checksum(f, EthernetHeader.HEADER_LENGTH, TCP_OFFSET6, 6), stored,
            "TCP checksum over the IPv6 pseudo-header");
    }

    static void assertChecksums(final byte[] f)
    {
        assertEquals(ReferenceChecksum.ipv4HeaderChecksum(f, 14), ((f[24] & 0xFF) << 8) | (f[25] & 0xFF), "IPv4 header checksum");
        assertEquals(ReferenceChecksum.l4Checksum(f, 14), ((f[50] & 0xFF) << 8) | (f[51] & 0xFF), "TCP checksum");
    }
}
