package lb.dataplane.rewrite;

import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.GoldenFrames;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static lb.dataplane.packet.GoldenFrames.BACKEND_IP;
import static lb.dataplane.packet.GoldenFrames.MAC_B;
import static lb.dataplane.packet.GoldenFrames.MAC_C;
import static lb.dataplane.packet.GoldenFrames.MAC_D;
import static lb.dataplane.packet.GoldenFrames.VIP;
import static lb.dataplane.packet.GoldenFrames.bytes;
import static lb.dataplane.packet.GoldenFrames.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NatRewriteGoldenTest
{
    private static final int OFFSET = 6;

    private final ParsedFrame parsed = new ParsedFrame();
    private final RewriteAction forward = new ForwardNat();
    private final RewriteAction reverse = new ReturnNat();

    @Test
    void forwardNatOfTcpSyn()
    {
        final UnsafeBuffer buffer = classified(GoldenFrames.TCP_SYN, FrameType.IPV4_TCP);

        assertTrue(forward.apply(buffer, parsed, MAC_C, MAC_D, BACKEND_IP, 8080));

        assertEquals(GoldenFrames.TCP_SYN_FORWARD_NAT, hex(buffer.byteArray(), OFFSET, 74));
        assertOutsideUntouched(buffer, 74);
        // ParsedFrame still describes the frame as received.
        assertEquals(VIP, parsed.dstIp);
        assertEquals(80, parsed.dstPort);
        assertEquals(64, parsed.ttl);
        assertNull(parsed.dropReason);
    }

    @Test
    void returnNatOfSynAck()
    {
        final UnsafeBuffer buffer = classified(GoldenFrames.TCP_SYNACK_FROM_BACKEND, FrameType.IPV4_TCP);

        assertTrue(reverse.apply(buffer, parsed, MAC_C, MAC_B, VIP, 80));

        assertEquals(GoldenFrames.TCP_SYNACK_RETURN_NAT, hex(buffer.byteArray(), OFFSET, 74));
        assertOutsideUntouched(buffer, 74);
    }

    @Test
    void forwardNatOfPaddedUdpLeavesPadding()
    {
        final UnsafeBuffer buffer = classified(GoldenFrames.UDP_PADDED, FrameType.IPV4_UDP);

        assertTrue(forward.apply(buffer, parsed, MAC_C, MAC_D, BACKEND_IP, 5300));

        assertEquals(GoldenFrames.UDP_FORWARD_NAT, hex(buffer.byteArray(), OFFSET, 51));
        assertEquals(GoldenFrames.UDP_PADDED.substring(102), hex(buffer.byteArray(), OFFSET + 51, 9));
        assertOutsideUntouched(buffer, 60);
    }

    @Test
    void partialChecksumIsCompletedAndTheFlagCleared()
    {
        // As Linux hands over a CHECKSUM_PARTIAL segment: the field holds the folded pseudo-header sum.
        final byte[] frame = bytes(GoldenFrames.TCP_SYN);
        final int partial = ReferenceChecksum.pseudoHeaderSum(frame, 14);
        frame[14 + 20 + 16] = (byte)(partial >>> 8);
        frame[14 + 20 + 17] = (byte)partial;
        final UnsafeBuffer buffer = GoldenFrames.embed(frame, OFFSET, 8, (byte)0x33);
        parsed.l4ChecksumPartial = true;
        assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(buffer, OFFSET, 74, parsed));
        assertTrue(parsed.l4ChecksumPartial);

        assertTrue(forward.apply(buffer, parsed, MAC_C, MAC_D, BACKEND_IP, 8080));

        assertEquals(GoldenFrames.TCP_SYN_FORWARD_NAT, hex(buffer.byteArray(), OFFSET, 74));
        assertFalse(parsed.l4ChecksumPartial);
    }

    @Test
    void udpWithoutChecksumStaysWithout()
    {
        final UnsafeBuffer buffer = classified(GoldenFrames.IPV4_OPTIONS_UDP, FrameType.IPV4_UDP);
        final int l4 = OFFSET + 14 + 24;

        assertTrue(reverse.apply(buffer, parsed, MAC_C, MAC_B, VIP, 53));

        final byte[] bytes = buffer.byteArray();
        assertEquals(0, (bytes[l4 + 6] & 0xFF) << 8 | bytes[l4 + 7] & 0xFF, "UDP checksum");
        assertEquals(1, bytes[OFFSET + 14 + 8], "TTL");
        assertEquals("0035", hex(bytes, l4, 2));
        assertEquals(hex(bytes(GoldenFrames.IPV4_OPTIONS_UDP), 34, 4), hex(bytes, OFFSET + 34, 4), "options untouched");
        assertTrue(ReferenceChecksum.verifies(bytes, OFFSET + 14, 24), "IP header checksum");
    }

    @Test
    void udpChecksumThatBecomesZeroIsSentAsFfff()
    {
        // Pick the backend port that makes the rewritten datagram's true checksum 0.
        final byte[] original = bytes(GoldenFrames.UDP_PADDED);
        final byte[] trial = original.clone();
        trial[14 + 16] = (byte)(BACKEND_IP >>> 24);
        trial[14 + 17] = (byte)(BACKEND_IP >>> 16);
        trial[14 + 18] = (byte)(BACKEND_IP >>> 8);
        trial[14 + 19] = (byte)BACKEND_IP;
        trial[36] = 0;
        trial[37] = 0;
        trial[40] = 0;
        trial[41] = 0;
        final int sumWithoutPort = ReferenceChecksum.onesComplementSum(pseudoAndSegment(trial), 0, 12 + 17);
        final int port = 0xFFFF - sumWithoutPort;

        final UnsafeBuffer buffer = classified(GoldenFrames.UDP_PADDED, FrameType.IPV4_UDP);
        assertTrue(forward.apply(buffer, parsed, MAC_C, MAC_D, BACKEND_IP, port));

        final byte[] bytes = buffer.byteArray();
        final int l4 = OFFSET + 34;
        assertEquals(0xFFFF, (bytes[l4 + 6] & 0xFF) << 8 | bytes[l4 + 7] & 0xFF, "port " + port);
        assertEquals(0xFFFF, ReferenceChecksum.l4Checksum(Arrays.copyOfRange(bytes, OFFSET, OFFSET + 60), 14));
    }

    @Test
    void vlanTaggedFrameIsRewrittenBehindTheTag()
    {
        final UnsafeBuffer buffer = classified(GoldenFrames.VLAN_TCP, FrameType.IPV4_TCP);

        assertTrue(forward.apply(buffer, parsed, MAC_C, MAC_D, BACKEND_IP, 8443));

        final byte[] frame = Arrays.copyOfRange(buffer.byteArray(), OFFSET, OFFSET + 63);
        assertEquals("020000000004020000000003" + "81006064" + "0800", hex(frame, 0, 18));
        assertEquals(4, frame[18 + 8], "TTL");
        assertEquals("c6120205", hex(frame, 18 + 16, 4));
        assertEquals("20fb", hex(frame, 38 + 2, 2));
        assertTrue(ReferenceChecksum.verifies(frame, 18, 20));
        assertEquals(ReferenceChecksum.l4Checksum(frame, 18), (frame[38 + 16] & 0xFF) << 8 | frame[38 + 17] & 0xFF);
    }

    @Test
    void ttlOneAndZeroAreRefusedAndTheFrameIsUntouched()
    {
        for (final int ttl : new int[]{ 1, 0 })
        {
            for (final RewriteAction action : new RewriteAction[]{ forward, reverse })
            {
                final byte[] frame = bytes(GoldenFrames.TCP_SYN);
                frame[14 + 8] = (byte)ttl;
                final int checksum = ReferenceChecksum.ipv4HeaderChecksum(frame, 14);
                frame[24] = (byte)(checksum >>> 8);
                frame[25] = (byte)checksum;
                final UnsafeBuffer buffer = GoldenFrames.embed(frame, OFFSET, 8, (byte)0x33);
                final byte[] before = buffer.byteArray().clone();
                parsed.l4ChecksumPartial = true;
                assertEquals(FrameType.IPV4_TCP, FrameClassifier.classify(buffer, OFFSET, 74, parsed));

                assertFalse(action.apply(buffer, parsed, MAC_C, MAC_D, BACKEND_IP, 8080), "TTL " + ttl);

                assertEquals(DropReason.TTL_EXCEEDED, parsed.dropReason);
                assertArrayEquals(before, buffer.byteArray(), "TTL " + ttl + " " + action.getClass().getSimpleName());
                assertTrue(parsed.l4ChecksumPartial, "flag untouched on refusal");
            }
        }
    }

    @Test
    void ttlTwoIsForwardedWithTtlOne()
    {
        final UnsafeBuffer buffer = classified(GoldenFrames.IPV4_OPTIONS_UDP, FrameType.IPV4_UDP);
        assertEquals(2, parsed.ttl);
        assertTrue(forward.apply(buffer, parsed, MAC_C, MAC_D, BACKEND_IP, 4789));
        assertEquals(1, buffer.getByte(OFFSET + 14 + 8));
    }

    @Test
    void icmpIsRefusedUntouched()
    {
        final UnsafeBuffer buffer = classified(GoldenFrames.ICMP_ECHO, FrameType.IPV4_ICMP);
        final byte[] before = buffer.byteArray().clone();

        assertFalse(forward.apply(buffer, parsed, MAC_C, MAC_D, BACKEND_IP, 0));

        assertEquals(DropReason.UNSUPPORTED_PROTOCOL, parsed.dropReason);
        assertArrayEquals(before, buffer.byteArray());
    }

    private UnsafeBuffer classified(final String hex, final FrameType expected)
    {
        final byte[] frame = bytes(hex);
        final UnsafeBuffer buffer = GoldenFrames.embed(frame, OFFSET, 8, (byte)0x33);
        parsed.l4ChecksumPartial = false;
        assertEquals(expected, FrameClassifier.classify(buffer, OFFSET, frame.length, parsed));
        return buffer;
    }

    private static void assertOutsideUntouched(final UnsafeBuffer buffer, final int frameLength)
    {
        final byte[] bytes = buffer.byteArray();
        for (int i = 0; i < OFFSET; i++)
        {
            assertEquals(0x33, bytes[i], "before the frame at " + i);
        }
        for (int i = OFFSET + frameLength; i < bytes.length; i++)
        {
            assertEquals(0x33, bytes[i], "after the frame at " + i);
        }
    }

    /** Pseudo-header and UDP segment of UDP_PADDED's layout, with the IPs as in the frame. */
    private static byte[] pseudoAndSegment(final byte[] frame)
    {
        final byte[] pseudo = new byte[12 + 17];
        System.arraycopy(frame, 14 + 12, pseudo, 0, 8);
        pseudo[9] = 17;
        pseudo[11] = 17;
        System.arraycopy(frame, 34, pseudo, 12, 17);
        return pseudo;
    }
}
