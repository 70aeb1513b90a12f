package lb.dataplane.rewrite;

import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.packet.FrameClassifier;
import lb.dataplane.packet.FrameType;
import lb.dataplane.packet.ParsedFrame;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random valid frames through every NAT rewrite: the result must equal, byte for byte, the frame
 * built by changing the same fields and recomputing both checksums with {@link ReferenceChecksum}.
 * Override the seed with {@code -Dlb.seed=...} to reproduce a failure from another run.
 */
class NatRewritePropertyTest
{
    private static final int FRAMES = 100_000;
    private static final int IP_SOURCE = 12;
    private static final int IP_DESTINATION = 16;

    private final ParsedFrame parsed = new ParsedFrame();
    private final RewriteAction forward = new ForwardNat();
    private final RewriteAction reverse = new ReturnNat();

    @Test
    void incrementalChecksumsEqualFullRecomputation()
    {
        final long seed = Long.getLong("lb.seed", 0x1b_5eed_2024L);
        final Random random = new Random(seed);
        int udpZero = 0;
        int odd = 0;
        int withOptions = 0;

        for (int n = 0; n < FRAMES; n++)
        {
            final RandomFrame frame = RandomFrame.create(random);
            final String where = "seed " + seed + " frame " + n + " " + frame;
            udpZero += frame.udp && frame.l4ChecksumField() == 0 ? 1 : 0;
            odd += (frame.l4Length & 1);
            withOptions += frame.ipHeaderLength > 20 ? 1 : 0;

            final long srcMac = random.nextLong() & 0xFFFF_FFFF_FFFFL;
            final long dstMac = random.nextLong() & 0xFFFF_FFFF_FFFFL;
            final int ip = random.nextInt();

            // Forward, port unchanged (a service on the backend's same port).
            check(frame, forward, srcMac, dstMac, ip, frame.dstPort(), false, where + " forward same port");
            // Forward, port mapped.
            check(frame, forward, srcMac, dstMac, ip, random.nextInt(0x10000), false, where + " forward new port");
            // Return.
            check(frame, reverse, srcMac, dstMac, ip, random.nextInt(0x10000), false, where + " return");
            // Either direction with a CHECKSUM_PARTIAL field.
            check(frame, random.nextBoolean() ? forward : reverse, srcMac, dstMac, ip, random.nextInt(0x10000), true,
                where + " partial");
        }

        // The generator must have covered the cases the property is about.
        assertTrue(udpZero > FRAMES / 20, "UDP frames without checksum: " + udpZero);
        assertTrue(odd > FRAMES / 4, "odd L4 lengths: " + odd);
        assertTrue(withOptions > FRAMES / 4, "frames with IP options: " + withOptions);
    }

    private void check(
        final RandomFrame frame,
        final RewriteAction action,
        final long srcMac,
        final long dstMac,
        final int ip,
        final int port,
        final boolean partial,
        final String where)
    {
        final byte[] input = frame.bytes.clone();
        if (partial)
        {
            putU16(input, frame.l4ChecksumIndex(), ReferenceChecksum.pseudoHeaderSum(input, frame.ipIndex()));
        }

        final UnsafeBuffer buffer = new UnsafeBuffer(input);
        parsed.l4ChecksumPartial = partial;
        final FrameType type = FrameClassifier.classify(buffer, frame.frameOffset, frame.frameLength, parsed);
        assertEquals(frame.udp ? FrameType.IPV4_UDP : FrameType.IPV4_TCP, type, where + " " + parsed);
        final int receivedDstIp = parsed.dstIp;

        assertTrue(action.apply(buffer, parsed, srcMac, dstMac, ip, port), where);

        final boolean isForward = action instanceof ForwardNat;
        final byte[] expected = frame.bytes.clone();
        putMac(expected, frame.frameOffset, dstMac);
        putMac(expected, frame.frameOffset + 6, srcMac);
        expected[frame.ipIndex() + 8]--;
        putU32(expected, frame.ipIndex() + (isForward ? IP_DESTINATION : IP_SOURCE), ip);
        putU16(expected, frame.l4Index() + (isForward ? 2 : 0), port);
        putU16(expected, frame.ipIndex() + 10, ReferenceChecksum.ipv4HeaderChecksum(expected, frame.ipIndex()));
        final boolean noUdpChecksum = frame.udp && frame.l4ChecksumField() == 0 && !partial;
        putU16(expected, frame.l4ChecksumIndex(), noUdpChecksum ? 0 : ReferenceChecksum.l4Checksum(expected, frame.ipIndex()));

        assertArrayEquals(expected, input, where);
        if (noUdpChecksum)
        {
            assertEquals(0, u16(input, frame.l4ChecksumIndex()), where + ": UDP zero checksum must stay zero");
        }
        assertFalse(parsed.l4ChecksumPartial, where);
        assertEquals(receivedDstIp, parsed.dstIp, where + ": parsed describes the frame as received");
    }

    /** One random valid Ethernet/IPv4 TCP or UDP frame with known-good checksums, inside a larger buffer. */
    private static final class RandomFrame
    {
        byte[] bytes;
        int frameOffset;
        int frameLength;
        int l2Length;
        int ipHeaderLength;
        int l4Length;
        boolean udp;

        static RandomFrame create(final Random random)
        {
            final RandomFrame frame = new RandomFrame();
            final int tagDraw = random.nextInt(10);
            final int tags = tagDraw < 6 ? 0 : tagDraw < 9 ? 1 : 2;
            frame.udp = random.nextBoolean();
            frame.frameOffset = random.nextInt(8);
            frame.l2Length = 14 + 4 * tags;
            frame.ipHeaderLength = 20 + 4 * (random.nextBoolean() ? 0 : random.nextInt(11));
            final int l4HeaderLength = frame.udp ? 8 : 20 + 4 * (random.nextInt(3) == 0 ? random.nextInt(11) : 0);
            final int payload = random.nextInt(10) == 0 ? random.nextInt(1461) : random.nextInt(200);
            frame.l4Length = l4HeaderLength + payload;
            final int datagramEnd = frame.l2Length + frame.ipHeaderLength + frame.l4Length;
            frame.frameLength = random.nextBoolean() ? Math.max(datagramEnd, 60) : datagramEnd;

            final byte[] bytes = new byte[frame.frameOffset + frame.frameLength + random.nextInt(16)];
            random.nextBytes(bytes);   // garbage around the frame and random content inside it
            frame.bytes = bytes;

            final int eth = frame.frameOffset;
            if (tags == 0)
            {
                putU16(bytes, eth + 12, 0x0800);
            }
            else if (tags == 1)
            {
                putU16(bytes, eth + 12, random.nextBoolean() ? 0x8100 : 0x88A8);
                putU16(bytes, eth + 16, 0x0800);
            }
            else
            {
                putU16(bytes, eth + 12, random.nextBoolean() ? 0x8100 : 0x88A8);
                putU16(bytes, eth + 16, 0x8100);
                putU16(bytes, eth + 20, 0x0800);
            }

            final int ip = frame.ipIndex();
            final int totalLength = frame.ipHeaderLength + frame.l4Length;
            bytes[ip] = (byte)(0x40 | frame.ipHeaderLength / 4);
            putU16(bytes, ip + 2, totalLength);
            putU16(bytes, ip + 6, random.nextBoolean() ? 0x4000 : 0);
            bytes[ip + 8] = (byte)(2 + random.nextInt(254));
            bytes[ip + 9] = (byte)(frame.udp ? 17 : 6);
            // No address in 0.0.0.0/8: the classifier drops those (lb's IPv6 aliases live there).
            bytes[ip + 12] |= 0x01;
            bytes[ip + 16] |= 0x01;

            final int l4 = frame.l4Index();
            if (frame.udp)
            {
                putU16(bytes, l4 + 4, frame.l4Length);
            }
            else
            {
                bytes[l4 + 12] = (byte)(l4HeaderLength / 4 << 4 | bytes[l4 + 12] & 0x0F);
            }

            putU16(bytes, ip + 10, ReferenceChecksum.ipv4HeaderChecksum(bytes, ip));
            final boolean withoutChecksum = frame.udp && random.nextInt(4) == 0;
            putU16(bytes, frame.l4ChecksumIndex(), withoutChecksum ? 0 : ReferenceChecksum.l4Checksum(bytes, ip));
            return frame;
        }

        int ipIndex()
        {
            return frameOffset + l2Length;
        }

        int l4Index()
        {
            return ipIndex() + ipHeaderLength;
        }

        int l4ChecksumIndex()
        {
            return l4Index() + (udp ? 6 : 16);
        }

        int l4ChecksumField()
        {
            return u16(bytes, l4ChecksumIndex());
        }

        int dstPort()
        {
            return u16(bytes, l4Index() + 2);
        }

        public String toString()
        {
            return (udp ? "UDP" : "TCP") + " offset " + frameOffset + " l2 " + l2Length + " ihl*4 " + ipHeaderLength +
                " l4 " + l4Length + " frame " + frameLength;
        }
    }

    private static int u16(final byte[] bytes, final int index)
    {
        return (bytes[index] & 0xFF) << 8 | bytes[index + 1] & 0xFF;
    }

    private static void putU16(final byte[] bytes, final int index, final int value)
    {
        bytes[index] = (byte)(value >>> 8);
        bytes[index + 1] = (byte)value;
    }

    private static void putU32(final byte[] bytes, final int index, final int value)
    {
        putU16(bytes, index, value >>> 16);
        putU16(bytes, index + 2, value & 0xFFFF);
    }

    private static void putMac(final byte[] bytes, final int index, final long mac)
    {
        putU16(bytes, index, (int)(mac >>> 32));
        putU32(bytes, index + 2, (int)mac);
    }
}
