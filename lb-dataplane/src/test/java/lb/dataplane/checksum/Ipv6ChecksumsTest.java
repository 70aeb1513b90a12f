package lb.dataplane.checksum;

import java.util.Random;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static java.nio.ByteOrder.BIG_ENDIAN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The IPv6 pseudo-header checksums and the 128-bit incremental update against {@link ReferenceChecksum}, over
 * random packets: random addresses (from 2001:2::/48, the benchmarking prefix), an extension-header gap of 0 to
 * 24 bytes between the fixed header and the upper layer (excluded from the checksummed length), random contents
 * and lengths of 0..1500 bytes past the upper layer's header, at odd and even buffer offsets.
 */
class Ipv6ChecksumsTest
{
    private static final int[] PROTOCOLS = {Checksums.PROTOCOL_TCP, Checksums.PROTOCOL_UDP, Checksums.PROTOCOL_ICMPV6};
    private static final long PREFIX_HIGH = 0x2001_0002_0000_0000L;

    @Test
    void fullChecksumsMatchReference()
    {
        final long seed = 0x5eed_6001L;
        final Random random = new Random(seed);
        for (int round = 0; round < 3000; round++)
        {
            final RandomPacket packet = new RandomPacket(random);
            final String where = "seed " + seed + " round " + round;
            assertEquals(
                ReferenceChecksum.ipv6PseudoHeaderSum(packet.bytes, packet.ip, packet.l4Length, packet.protocol),
                Checksums.ipv6PseudoHeaderSum(packet.buffer, packet.ip, packet.l4Length, packet.protocol), where);
            final int expected = ReferenceChecksum.ipv6L4Checksum(packet.bytes, packet.ip, packet.l4, packet.protocol);
            assertEquals(expected, Checksums.ipv6L4Checksum(packet.buffer, packet.ip, packet.l4, packet.l4Length, packet.protocol), where);

            assertFalse(packet.protocol == Checksums.PROTOCOL_UDP && expected == 0, "UDP over IPv6 never carries 0");
            packet.storeChecksum(expected);
            assertTrue(ReferenceChecksum.verifies(packet.pseudoAndPayload(), 0, 40 + packet.l4Length), where);
            assertTrue(Checksums.ipv6L4ChecksumValid(packet.buffer, packet.ip, packet.l4, packet.l4Length, packet.protocol), where);

            packet.bytes[packet.l4 + random.nextInt(packet.l4Length)] ^= (byte)(1 + random.nextInt(255));
            assertFalse(Checksums.ipv6L4ChecksumValid(packet.buffer, packet.ip, packet.l4, packet.l4Length, packet.protocol), where);
        }
    }

    @Test
    void addressUpdatesEqualFullRecomputation()
    {
        final long seed = 0x5eed_6002L;
        final Random random = new Random(seed);
        for (int round = 0; round < 3000; round++)
        {
            final RandomPacket packet = new RandomPacket(random);
            final String where = "seed " + seed + " round " + round;
            packet.storeChecksum(ReferenceChecksum.ipv6L4Checksum(packet.bytes, packet.ip, packet.l4, packet.protocol));
            final int addressOffset = packet.ip + (random.nextBoolean() ? 8 : 24);
            final long oldHigh = packet.buffer.getLong(addressOffset, BIG_ENDIAN);
            final long oldLow = packet.buffer.getLong(addressOffset + 8, BIG_ENDIAN);
            final long newHigh = round % 7 == 0 ? oldHigh : PREFIX_HIGH | random.nextInt(0x10000);
            final long newLow = random.nextLong();
            packet.buffer.putLong(addressOffset, newHigh, BIG_ENDIAN);
            packet.buffer.putLong(addressOffset + 8, newLow, BIG_ENDIAN);

            final int expected = ReferenceChecksum.ipv6L4Checksum(packet.bytes, packet.ip, packet.l4, packet.protocol);
            final int updated = packet.protocol == Checksums.PROTOCOL_UDP ?
                Checksums.updateUdp128(packet.storedChecksum(), oldHigh, oldLow, newHigh, newLow) :
                Checksums.update128(packet.storedChecksum(), oldHigh, oldLow, newHigh, newLow);
            assertEquals(expected, updated, where);
        }
    }

    /** A UDP checksum that computes to 0 is sent as 0xFFFF, verifies as such, and 0 itself never verifies. */
    @Test
    void udpComputedZeroIsSentAsAllOnes()
    {
        final Random random = new Random(0x5eed_6003L);
        int zeroes = 0;
        for (int round = 0; round < 200; round++)
        {
            final RandomPacket packet = new RandomPacket(random, Checksums.PROTOCOL_UDP);
            // The checksum with the last payload word 0 is what that word must be for the full sum to be 0xFFFF.
            final int lastWord = packet.l4 + 8 + (packet.l4Length - 8 & ~1) - 2;
            if (lastWord < packet.l4 + 8)
            {
                continue;
            }
            packet.buffer.putShort(lastWord, (short)0, BIG_ENDIAN);
            final int withZeroWord = ~ReferenceChecksum.onesComplementSum(packet.pseudoAndPayloadZeroChecksum(), 0,
                40 + packet.l4Length) & 0xFFFF;
            packet.buffer.putShort(lastWord, (short)withZeroWord, BIG_ENDIAN);
            assertEquals(0xFFFF, ReferenceChecksum.onesComplementSum(packet.pseudoAndPayloadZeroChecksum(), 0,
                40 + packet.l4Length), "the sum is now all ones: the raw checksum is 0");
            zeroes++;

            assertEquals(0xFFFF, Checksums.ipv6L4Checksum(packet.buffer, packet.ip, packet.l4, packet.l4Length, Checksums.PROTOCOL_UDP));
            assertEquals(0xFFFF, ReferenceChecksum.ipv6L4Checksum(packet.bytes, packet.ip, packet.l4, Checksums.PROTOCOL_UDP));
            packet.storeChecksum(0xFFFF);
            assertTrue(Checksums.ipv6L4ChecksumValid(packet.buffer, packet.ip, packet.l4, packet.l4Length, Checksums.PROTOCOL_UDP));
            packet.storeChecksum(0);
            assertFalse(Checksums.ipv6L4ChecksumValid(packet.buffer, packet.ip, packet.l4, packet.l4Length, Checksums.PROTOCOL_UDP),
                "a zero UDP checksum is invalid over IPv6");
        }
        assertTrue(zeroes > 150, "built " + zeroes + " zero-checksum datagrams");
    }

    /** An address change whose true result is a UDP checksum of 0 must give 0xFFFF, as full recomputation does. */
    @Test
    void udpAddressUpdateNeverProducesZero()
    {
        final Random random = new Random(0x5eed_6004L);
        int zeroes = 0;
        for (int round = 0; round < 200; round++)
        {
            final RandomPacket packet = new RandomPacket(random, Checksums.PROTOCOL_UDP);
            packet.storeChecksum(ReferenceChecksum.ipv6L4Checksum(packet.bytes, packet.ip, packet.l4, Checksums.PROTOCOL_UDP));
            final int oldChecksum = packet.storedChecksum();
            final int destination = packet.ip + 24;
            final long oldHigh = packet.buffer.getLong(destination, BIG_ENDIAN);
            final long oldLow = packet.buffer.getLong(destination + 8, BIG_ENDIAN);

            // With the new address's last word 0 the raw checksum is c; a last word of c makes the raw checksum 0.
            final long newHigh = oldHigh;
            final long lowWithoutLastWord = random.nextLong() & ~0xFFFFL;
            final int rawWithZeroWord = Checksums.update128(oldChecksum, oldHigh, oldLow, newHigh, lowWithoutLastWord);
            final long newLow = lowWithoutLastWord | rawWithZeroWord;
            packet.buffer.putLong(destination + 8, newLow, BIG_ENDIAN);
            final int expected = ReferenceChecksum.ipv6L4Checksum(packet.bytes, packet.ip, packet.l4, Checksums.PROTOCOL_UDP);
            if (expected != 0xFFFF)
            {
                continue;
            }
            zeroes++;
            assertEquals(0, Checksums.update128(oldChecksum, oldHigh, oldLow, newHigh, newLow), "raw result is 0");
            assertEquals(0xFFFF, Checksums.updateUdp128(oldChecksum, oldHigh, oldLow, newHigh, newLow));
        }
        assertTrue(zeroes > 150, "built " + zeroes + " zero-checksum updates");
    }

    @Test
    void otherProtocolsAreRefused()
    {
        final RandomPacket packet = new RandomPacket(new Random(1), Checksums.PROTOCOL_TCP);
        assertThrows(IllegalArgumentException.class,
            () -> Checksums.ipv6L4Checksum(packet.buffer, packet.ip, packet.l4, packet.l4Length, 47));
    }

    /** A random IPv6 packet in a byte array, wrapped by an UnsafeBuffer. */
    private static final class RandomPacket
    {
        final byte[] bytes;
        final UnsafeBuffer buffer;
        final int ip;
        final int l4;
        final int l4Length;
        final int protocol;

        RandomPacket(final Random random)
        {
            this(random, PROTOCOLS[random.nextInt(PROTOCOLS.length)]);
        }

        RandomPacket(final Random random, final int protocol)
        {
            this.protocol = protocol;
            final int headerLength = protocol == Checksums.PROTOCOL_TCP ? 20 : 8;
            final int extensions = 8 * random.nextInt(4);
            l4Length = headerLength + random.nextInt(1501);
            ip = random.nextInt(16);
            l4 = ip + 40 + extensions;
            final int trailer = random.nextInt(8);
            bytes = new byte[l4 + l4Length + trailer];
            random.nextBytes(bytes);
            buffer = new UnsafeBuffer(bytes);
            buffer.putInt(ip, 0x6000_0000 | random.nextInt(0x1000_0000), BIG_ENDIAN);
            buffer.putShort(ip + 4, (short)(extensions + l4Length), BIG_ENDIAN);
            buffer.putLong(ip + 8, PREFIX_HIGH | random.nextInt(0x10000), BIG_ENDIAN);
            buffer.putLong(ip + 24, PREFIX_HIGH | random.nextInt(0x10000), BIG_ENDIAN);
            if (protocol == Checksums.PROTOCOL_UDP)
            {
                buffer.putShort(l4 + 4, (short)l4Length, BIG_ENDIAN);
            }
        }

        int checksumOffset()
        {
            return l4 + (protocol == Checksums.PROTOCOL_ICMPV6 ? 2 : Checksums.l4ChecksumOffset(protocol));
        }

        void storeChecksum(final int checksum)
        {
            buffer.putShort(checksumOffset(), (short)checksum, BIG_ENDIAN);
        }

        int storedChecksum()
        {
            return buffer.getShort(checksumOffset(), BIG_ENDIAN) & 0xFFFF;
        }

        /** The pseudo-header bytes followed by the upper-layer packet as it is. */
        byte[] pseudoAndPayload()
        {
            final byte[] out = new byte[40 + l4Length];
            System.arraycopy(bytes, ip + 8, out, 0, 32);
            out[34] = (byte)(l4Length >>> 8);
            out[35] = (byte)l4Length;
            out[39] = (byte)protocol;
            System.arraycopy(bytes, l4, out, 40, l4Length);
            return out;
        }

        byte[] pseudoAndPayloadZeroChecksum()
        {
            final byte[] out = pseudoAndPayload();
            out[40 + checksumOffset() - l4] = 0;
            out[40 + checksumOffset() - l4 + 1] = 0;
            return out;
        }
    }
}
