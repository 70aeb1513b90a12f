package lb.dataplane.packet;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import lb.dataplane.checksum.Checksums;
import lb.dataplane.checksum.ReferenceChecksum;
import lb.dataplane.packet.Ipv6ExtensionWalk.Outcome;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 200,000 random mutations of IPv6 frames (next header values, extension lengths, payload length, truncation,
 * random bytes) walked with the frame's end at its buffer's end ({@link GuardedFrame}, Agrona bounds checks on): the
 * walk never reads outside the frame (Agrona would throw), never writes, and agrees with a plain reference walk over
 * the byte array on the outcome and every offset. Whatever reaches ICMPv6 is also parsed as neighbour discovery, and
 * whatever reaches TCP, UDP or ICMPv6 has its checksum computed and compared with {@link ReferenceChecksum}.
 */
class Ipv6ExtensionWalkMutationTest
{
    private static final int FRAMES = 200_000;
    private static final int[] INTERESTING_HEADERS = {0, 6, 17, 43, 44, 50, 51, 58, 59, 60, 135, 253, 255};

    private final GuardedFrame frame = new GuardedFrame();
    private final Ipv6ExtensionWalk walk = new Ipv6ExtensionWalk();
    private final NeighborDiscovery ndp = new NeighborDiscovery();

    @Test
    void walkStaysInsideTheFrameAndAgreesWithTheReference()
    {
        final byte[][] seeds = {
            GoldenFrames.bytes(GoldenFrames.V6_TCP_SYN_EXTENSIONS),
            GoldenFrames.bytes(GoldenFrames.V6_UDP),
            GoldenFrames.bytes(GoldenFrames.V6_ECHO_REQUEST),
            GoldenFrames.bytes(GoldenFrames.V6_NEIGHBOR_SOLICITATION),
            GoldenFrames.bytes(GoldenFrames.V6_NEIGHBOR_ADVERTISEMENT),
            chainOfDestinationOptions(9),
        };
        final long seed = 0x5eed_6005L;
        final Random random = new Random(seed);
        final Map<Outcome, Integer> seen = new EnumMap<>(Outcome.class);
        int neighborDiscoveryValid = 0;

        for (int round = 0; round < FRAMES; round++)
        {
            final byte[] input = mutate(seeds[random.nextInt(seeds.length)], random);
            final String where = "seed " + seed + " round " + round + ": " + GoldenFrames.hex(input, 0, input.length);
            final UnsafeBuffer buffer = frame.place(input);
            final int ip = frame.offset() + EthernetHeader.HEADER_LENGTH;
            final int end = frame.offset() + frame.length();

            final Outcome outcome = walk.walk(buffer, ip, end);
            seen.merge(outcome, 1, Integer::sum);

            final ReferenceWalk expected = new ReferenceWalk(input, EthernetHeader.HEADER_LENGTH);
            assertEquals(expected.outcome, outcome, where);
            assertTrue(walk.extensionHeaderCount <= Ipv6ExtensionWalk.MAX_EXTENSION_HEADERS, where);
            if (outcome == Outcome.UPPER_LAYER)
            {
                assertEquals(expected.protocol, walk.upperLayerProtocol, where);
                assertEquals(expected.upperLayer + frame.offset(), walk.upperLayerOffset, where);
                assertEquals(walk.payloadEnd, walk.upperLayerOffset + walk.upperLayerLength, where);
                assertTrue(walk.upperLayerOffset >= ip + Ipv6Header.HEADER_LENGTH && walk.payloadEnd <= end, where);
                neighborDiscoveryValid += checkUpperLayer(buffer, ip, input, where);
            }
            else if (outcome == Outcome.FRAGMENT)
            {
                assertEquals(expected.fragment + frame.offset(), walk.fragmentHeaderOffset, where);
                assertTrue(walk.fragmentHeaderOffset + Ipv6ExtensionWalk.FRAGMENT_HEADER_LENGTH <= walk.payloadEnd, where);
            }

            assertEquals(-1, frame.changedGuard(), where);
            assertArrayEquals(Arrays.copyOf(input, frame.length()), frame.copy(), "the walk or parse wrote: " + where);
        }

        for (final Outcome outcome : Outcome.values())
        {
            assertTrue(seen.getOrDefault(outcome, 0) > 100, "outcome " + outcome + " seen " + seen.get(outcome) + " times");
        }
        assertTrue(neighborDiscoveryValid > 100, "valid NDP messages " + neighborDiscoveryValid);
    }

    /** Parses ICMPv6 as NDP and compares checksums; returns 1 for a valid NDP message. */
    private int checkUpperLayer(final UnsafeBuffer buffer, final int ip, final byte[] input, final String where)
    {
        final int protocol = walk.upperLayerProtocol;
        final int checksumEnd = protocol == Checksums.PROTOCOL_TCP ? 18 : protocol == Checksums.PROTOCOL_UDP ? 8 :
            protocol == Checksums.PROTOCOL_ICMPV6 ? 4 : Integer.MAX_VALUE;
        if (walk.upperLayerLength < checksumEnd)
        {
            return 0;
        }
        final int inputIp = ip - frame.offset();
        assertEquals(
            ReferenceChecksum.ipv6L4Checksum(input, inputIp, walk.upperLayerOffset - frame.offset(), protocol),
            Checksums.ipv6L4Checksum(buffer, ip, walk.upperLayerOffset, walk.upperLayerLength, protocol), where);
        if (protocol != Checksums.PROTOCOL_ICMPV6)
        {
            return 0;
        }
        final NeighborDiscovery.Outcome parsed = ndp.parse(buffer, ip, walk.upperLayerOffset, walk.upperLayerLength);
        return parsed == NeighborDiscovery.Outcome.VALID ? 1 : 0;
    }

    private static byte[] mutate(final byte[] seed, final Random random)
    {
        byte[] bytes = seed.clone();
        final int mutations = random.nextInt(4);
        final int ip = EthernetHeader.HEADER_LENGTH;
        // Every mutation but truncation needs the fixed header's first 8 bytes; after a deep cut the frame stays as it is.
        for (int i = 0; i < mutations && bytes.length > ip + Ipv6Header.HOP_LIMIT_OFFSET; i++)
        {
            switch (random.nextInt(6))
            {
                case 0 -> bytes[random.nextInt(bytes.length)] = (byte)random.nextInt(256);
                case 1 -> bytes[ip + Ipv6Header.NEXT_HEADER_OFFSET] = (byte)INTERESTING_HEADERS[random.nextInt(INTERESTING_HEADERS.length)];
                case 2 ->
                {
                    // An extension header's next header or length byte, at one of the first few 8-byte boundaries.
                    final int at = ip + Ipv6Header.HEADER_LENGTH + 8 * random.nextInt(10) + random.nextInt(2);
                    if (at < bytes.length)
                    {
                        final boolean nextHeaderByte = (at - ip - Ipv6Header.HEADER_LENGTH) % 8 == 0;
                        bytes[at] = (byte)(nextHeaderByte ?
                            INTERESTING_HEADERS[random.nextInt(INTERESTING_HEADERS.length)] :
                            random.nextBoolean() ? random.nextInt(4) : random.nextInt(256));
                    }
                }
                case 3 ->
                {
                    final int payload = Math.max(0, bytes.length - ip - Ipv6Header.HEADER_LENGTH + random.nextInt(33) - 16);
                    bytes[ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET] = (byte)(payload >>> 8);
                    bytes[ip + Ipv6Header.PAYLOAD_LENGTH_OFFSET + 1] = (byte)payload;
                }
                case 4 -> bytes = Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
                default ->
                {
                    final int grown = bytes.length;
                    bytes = Arrays.copyOf(bytes, grown + random.nextInt(64));
                    for (int j = grown; j < bytes.length; j++)
                    {
                        bytes[j] = (byte)random.nextInt(256);
                    }
                }
            }
        }
        return bytes;
    }

    /** A UDP-less IPv6 frame: {@code count} destination options headers of 8 bytes, then no next header. */
    private static byte[] chainOfDestinationOptions(final int count)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[14 + 40 + 8 * count]);
        EthernetHeader.write(buffer, 0, GoldenFrames.MAC_B, GoldenFrames.MAC_A, Ipv6Header.ETHER_TYPE_IPV6);
        Ipv6Header.write(buffer, 14, 8 * count, Ipv6ExtensionWalk.DESTINATION_OPTIONS, 64,
            GoldenFrames.V6_HIGH, GoldenFrames.V6_CLIENT_LOW, GoldenFrames.V6_HIGH, GoldenFrames.V6_VIP_LOW);
        for (int i = 0; i < count; i++)
        {
            buffer.putByte(54 + 8 * i, (byte)(i == count - 1 ? Ipv6ExtensionWalk.NO_NEXT_HEADER : Ipv6ExtensionWalk.DESTINATION_OPTIONS));
            buffer.putByte(54 + 8 * i + 2, (byte)1);
            buffer.putByte(54 + 8 * i + 3, (byte)4);
        }
        return buffer.byteArray();
    }

    /**
     * RFC 8200 section 4 read plainly over a byte array, every index checked against the array and the payload end
     * before use, to compare {@link Ipv6ExtensionWalk} with. Offsets are indices in the array.
     */
    private static final class ReferenceWalk
    {
        Outcome outcome;
        int protocol = -1;
        int upperLayer = -1;
        int fragment = -1;

        ReferenceWalk(final byte[] frame, final int ip)
        {
            if (frame.length < ip + 40)
            {
                outcome = Outcome.TRUNCATED;
                return;
            }
            if ((frame[ip] & 0xFF) >> 4 != 6)
            {
                outcome = Outcome.NOT_IPV6;
                return;
            }
            final int payloadEnd = ip + 40 + ((frame[ip + 4] & 0xFF) << 8 | frame[ip + 5] & 0xFF);
            if (payloadEnd > frame.length)
            {
                outcome = Outcome.TRUNCATED;
                return;
            }
            int next = frame[ip + 6] & 0xFF;
            int at = ip + 40;
            int skipped = 0;
            while (outcome == null)
            {
                switch (next)
                {
                    case 44 ->
                    {
                        fragment = at;
                        outcome = at + 8 <= payloadEnd ? Outcome.FRAGMENT : Outcome.TRUNCATED;
                    }
                    case 50, 51, 135, 139, 140, 253, 254 -> outcome = Outcome.UNSUPPORTED_EXTENSION;
                    case 0, 43, 60 ->
                    {
                        if (next == 0 && skipped > 0)
                        {
                            outcome = Outcome.UNSUPPORTED_EXTENSION;
                        }
                        else if (skipped == 8)
                        {
                            outcome = Outcome.TOO_MANY_EXTENSIONS;
                        }
                        else if (at + 2 > payloadEnd || at + 8 * (1 + (frame[at + 1] & 0xFF)) > payloadEnd)
                        {
                            outcome = Outcome.TRUNCATED;
                        }
                        else if (next == 43 && frame[at + 3] != 0)
                        {
                            outcome = Outcome.UNSUPPORTED_EXTENSION;
                        }
                        else
                        {
                            skipped++;
                            final int length = 8 * (1 + (frame[at + 1] & 0xFF));
                            next = frame[at] & 0xFF;
                            at += length;
                        }
                    }
                    default ->
                    {
                        protocol = next;
                        upperLayer = at;
                        outcome = Outcome.UPPER_LAYER;
                    }
                }
            }
        }
    }
}
