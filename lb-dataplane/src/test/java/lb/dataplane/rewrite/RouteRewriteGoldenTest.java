package lb.dataplane.rewrite;

import java.util.Arrays;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.packet.DropReason;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.GoldenFrames;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static lb.dataplane.packet.GoldenFrames.MAC_C;
import static lb.dataplane.packet.GoldenFrames.MAC_D;
import static lb.dataplane.packet.GoldenFrames.bytes;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Forwarding as a router: MACs, TTL - 1, IPv4 checksum; nothing else in the frame changes. */
class RouteRewriteGoldenTest
{
    private static final int OFFSET = 6;
    private final ParsedFrame parsed = new ParsedFrame();

    @Test
    void tcpUdpAndIcmpAreForwardedWithTtlMinusOneAndValidChecksums()
    {
        for (final String hex : new String[] {GoldenFrames.TCP_SYN, GoldenFrames.UDP_PADDED, GoldenFrames.ICMP_ECHO})
        {
            final byte[] frame = bytes(hex);
            final UnsafeBuffer buffer = GoldenFrames.embed(frame, OFFSET, 8, (byte)0x33);
            parsed.l4ChecksumPartial = false;
            FrameClassifier.classify(buffer, OFFSET, frame.length, parsed);
            final int ttl = frame[14 + 8] & 0xFF;

            assertTrue(RouteRewrite.apply(buffer, parsed, MAC_C, MAC_D));

            final byte[] out = Arrays.copyOfRange(buffer.byteArray(), OFFSET, OFFSET + frame.length);
            assertEquals(MAC_D, mac(out, 0));
            assertEquals(MAC_C, mac(out, 6));
            assertEquals(ttl - 1, out[14 + 8] & 0xFF);
            assertTrue(ReferenceChecksum.verifies(out, 14, 20), "IPv4 header checksum after the TTL change");
            // Everything but the MACs, the TTL and the header checksum is byte for byte the input.
            final byte[] expected = frame.clone();
            System.arraycopy(out, 0, expected, 0, 12);
            expected[14 + 8] = out[14 + 8];
            expected[14 + 10] = out[14 + 10];
            expected[14 + 11] = out[14 + 11];
            assertArrayEquals(expected, out, hex);
            assertEquals(0x33, buffer.byteArray()[OFFSET - 1]);
            assertEquals(0x33, buffer.byteArray()[OFFSET + frame.length]);
        }
    }

    @Test
    void ttlOneIsNotForwardedAndTheFrameIsUntouched()
    {
        final byte[] frame = bytes(GoldenFrames.ICMP_ECHO);
        frame[14 + 8] = 1;
        final int checksum = ReferenceChecksum.ipv4HeaderChecksum(frame, 14);
        frame[24] = (byte)(checksum >>> 8);
        frame[25] = (byte)checksum;
        final UnsafeBuffer buffer = GoldenFrames.embed(frame, OFFSET, 8, (byte)0x33);
        final byte[] before = buffer.byteArray().clone();
        assertEquals(FrameType.IPV4_ICMP, FrameClassifier.classify(buffer, OFFSET, frame.length, parsed));

        assertFalse(RouteRewrite.apply(buffer, parsed, MAC_C, MAC_D));

        assertEquals(DropReason.TTL_EXCEEDED, parsed.dropReason);
        assertArrayEquals(before, buffer.byteArray());
    }

    private static long mac(final byte[] frame, final int offset)
    {
        long mac = 0;
        for (int i = 0; i < 6; i++)
        {
            mac = mac << 8 | (frame[offset + i] & 0xFF);
        }
        return mac;
    }
}
