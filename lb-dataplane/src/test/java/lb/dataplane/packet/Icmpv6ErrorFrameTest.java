package lb.dataplane.packet;

import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static lb.dataplane.packet.GoldenFrames.MAC_C;
import static lb.dataplane.packet.GoldenFrames.V6_CLIENT_LOW;
import static lb.dataplane.packet.GoldenFrames.V6_HIGH;
import static lb.dataplane.packet.GoldenFrames.V6_HOST_LOW;
import static lb.dataplane.packet.GoldenFrames.bytes;
import static lb.dataplane.packet.GoldenFrames.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Icmpv6Header#writeErrorFrame} against errors written out by hand from RFC 4443, checksums by
 * {@link ReferenceChecksum}; the 1280-byte bound of section 2.4(c); and {@link Icmpv6Header#mayAnswerWithError6}.
 */
class Icmpv6ErrorFrameTest
{
    private static final int OFFSET = 5;
    private static final int OUT_OFFSET = 3;
    private static final byte GARBAGE = (byte)0x5A;

    private final ParsedFrame parsed = new ParsedFrame();

    @Test
    void timeExceededQuotesTheWholeSmallPacket()
    {
        final byte[] golden = bytes(GoldenFrames.V6_UDP);
        final UnsafeBuffer request = GoldenFrames.embed(golden, OFFSET, 7, GARBAGE);
        assertEquals(FrameType.IPV6_UDP, FrameClassifier.classify(request, OFFSET, golden.length, parsed));

        final UnsafeBuffer out = new UnsafeBuffer(new byte[2048]);
        final int length = Icmpv6Header.writeErrorFrame(out, OUT_OFFSET, request, parsed, MAC_C, V6_HIGH, V6_HOST_LOW,
            Icmpv6Header.TYPE_TIME_EXCEEDED, Icmpv6Header.CODE_HOP_LIMIT_EXCEEDED, 0);

        final int quoted = golden.length - EthernetHeader.HEADER_LENGTH;
        assertEquals(14 + 40 + 8 + quoted, length);
        final byte[] frame = new byte[length];
        out.getBytes(OUT_OFFSET, frame);
        // To the request's source MAC from ours; IPv6 from 2001:2::1 to the client 2001:2::a, payload 8 + 53, next header 58, hop limit 64.
        final String expectedHeaders = "020000000001" + "020000000003" + "86dd" +
            "60000000" + String.format("%04x", 8 + quoted) + "3a40" +
            "20010002000000000000000000000001" + "2001000200000000000000000000000a";
        assertEquals(expectedHeaders, hex(frame, 0, 54));
        final int checksum = ReferenceChecksum.ipv6L4Checksum(frame, 14, 54, Checksums.PROTOCOL_ICMPV6);
        assertEquals("0300" + String.format("%04x", checksum) + "00000000" + hex(golden, 14, quoted), hex(frame, 54, 8 + quoted));
        assertTrue(Checksums.ipv6L4ChecksumValid(out, OUT_OFFSET + 14, OUT_OFFSET + 54, 8 + quoted, Checksums.PROTOCOL_ICMPV6));
    }

    @Test
    void packetTooBigCarriesTheMtuAndStaysWithin1280Bytes()
    {
        // A 1500-byte UDP packet (MTU-sized) from the client: the error quotes its first 1232 bytes.
        final int payload = 1500 - 40 - 8;
        final byte[] golden = new byte[14 + 1500];
        System.arraycopy(bytes(GoldenFrames.V6_UDP), 0, golden, 0, 14 + 40);
        golden[18] = (byte)((8 + payload) >>> 8);
        golden[19] = (byte)(8 + payload);
        final int udp = 14 + 40;
        golden[udp] = 0x14;
        golden[udp + 1] = (byte)0xe9;
        golden[udp + 3] = 0x35;
        golden[udp + 4] = (byte)((8 + payload) >>> 8);
        golden[udp + 5] = (byte)(8 + payload);
        for (int i = 0; i < payload; i++)
        {
            golden[udp + 8 + i] = (byte)(i * 7);
        }
        final int udpChecksum = ReferenceChecksum.ipv6L4Checksum(golden, 14, udp, Checksums.PROTOCOL_UDP);
        golden[udp + 6] = (byte)(udpChecksum >>> 8);
        golden[udp + 7] = (byte)udpChecksum;
        final UnsafeBuffer request = GoldenFrames.embed(golden, OFFSET, 0, GARBAGE);
        assertEquals(FrameType.IPV6_UDP, FrameClassifier.classify(request, OFFSET, golden.length, parsed));

        final UnsafeBuffer out = new UnsafeBuffer(new byte[2048]);
        final int length = Icmpv6Header.writeErrorFrame(out, 0, request, parsed, MAC_C, V6_HIGH, V6_HOST_LOW,
            Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, 1400);

        assertEquals(14 + 1280, length);
        final byte[] frame = new byte[length];
        out.getBytes(0, frame);
        assertEquals("60000000" + "04d8" + "3a40", hex(frame, 14, 8));   // payload length 1240 = 1280 - 40
        final int checksum = ReferenceChecksum.ipv6L4Checksum(frame, 14, 54, Checksums.PROTOCOL_ICMPV6);
        assertEquals("0200" + String.format("%04x", checksum) + "00000578", hex(frame, 54, 8));
        assertEquals(hex(golden, 14, 1232), hex(frame, 62, 1232));
    }

    @Test
    void mayAnswerWithError6Rules()
    {
        final ParsedFrame p = new ParsedFrame();
        p.reset();
        p.protocol = Checksums.PROTOCOL_UDP;
        p.srcHigh = V6_HIGH;
        p.srcLow = V6_CLIENT_LOW;
        p.dstHigh = V6_HIGH;
        p.dstLow = V6_HOST_LOW;
        assertTrue(Icmpv6Header.mayAnswerWithError6(p));

        p.protocol = Icmpv6Header.PROTOCOL_ICMPV6;
        p.icmpType = Icmpv6Header.TYPE_ECHO_REQUEST;
        assertTrue(Icmpv6Header.mayAnswerWithError6(p), "echo is informational");
        for (int type = 0; type < 128; type++)
        {
            p.icmpType = type;
            assertFalse(Icmpv6Header.mayAnswerWithError6(p), "never about an error, type " + type);
        }

        p.protocol = Checksums.PROTOCOL_TCP;
        p.icmpType = 0;
        p.srcHigh = 0xFF02_0000_0000_0000L;
        assertFalse(Icmpv6Header.mayAnswerWithError6(p), "multicast source");
        p.srcHigh = 0;
        p.srcLow = 0;
        assertFalse(Icmpv6Header.mayAnswerWithError6(p), "unspecified source");
        p.srcLow = 1;
        assertTrue(Icmpv6Header.mayAnswerWithError6(p), "::1 names one host");
        p.srcHigh = V6_HIGH;
        p.dstHigh = 0xFF05_0000_0000_0000L;
        assertFalse(Icmpv6Header.mayAnswerWithError6(p), "multicast destination");
        p.dstHigh = 0xFE80_0000_0000_0000L;
        assertTrue(Icmpv6Header.mayAnswerWithError6(p));
    }
}
