package lb.dataplane.checksum;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChecksumsTest
{
    @Test
    void rfc1071Example()
    {
        // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        final UnsafeBuffer buffer = new UnsafeBuffer(hex("0001f203f4f5f6f7"));
        assertEquals(0xddf2, Checksums.fold(Checksums.sum(buffer, 0, 8)));
    }

    @Test
    void knownIpv4Header()
    {
        // A commonly published example header with checksum b861.
        final byte[] header = hex("450000730000400040110000c0a80001c0a800c7");
        final UnsafeBuffer buffer = new UnsafeBuffer(header);
        assertEquals(0xb861, Checksums.ipv4HeaderChecksum(buffer, 0, 20));
        assertFalse(Checksums.ipv4HeaderValid(buffer, 0, 20));

        buffer.putShort(10, (short)0xb861, java.nio.ByteOrder.BIG_ENDIAN);
        assertTrue(Checksums.ipv4HeaderValid(buffer, 0, 20));
        // The stored field does not influence the computed value.
        assertEquals(0xb861, Checksums.ipv4HeaderChecksum(buffer, 0, 20));

        buffer.putByte(19, (byte)0xc8);
        assertFalse(Checksums.ipv4HeaderValid(buffer, 0, 20));
    }

    @Test
    void sumMatchesReferenceForEveryLengthAndAlignment()
    {
        final long seed = 0x5eed_0001L;
        final Random random = new Random(seed);
        final byte[] data = new byte[600];
        for (int round = 0; round < 20; round++)
        {
            random.nextBytes(data);
            if (round % 5 == 0)
            {
                java.util.Arrays.fill(data, (byte)0xFF);
            }
            final UnsafeBuffer buffer = new UnsafeBuffer(data);
            for (int offset = 0; offset < 9; offset++)
            {
                for (int length = 0; length <= 300; length++)
                {
                    assertEquals(
                        ReferenceChecksum.onesComplementSum(data, offset, length),
                        Checksums.fold(Checksums.sum(buffer, offset, length)),
                        "seed " + seed + " round " + round + " offset " + offset + " length " + length);
                }
            }
        }
    }

    /**
     * {@link Checksums#sum} sums native-order words and swaps the folded result: for random lengths 0..2000, offsets
     * and contents, in heap and in direct buffers, it must equal a plain big-endian 16-bit word sum, already folded,
     * and two sums split at an even distance from the start must add up to the sum of the whole.
     */
    @Test
    void nativeOrderSumMatchesBigEndianReference()
    {
        final long seed = 0x5eed_0004L;
        final Random random = new Random(seed);
        final int capacity = 2000 + 64;
        final byte[] data = new byte[capacity];
        final UnsafeBuffer heap = new UnsafeBuffer(data);
        final UnsafeBuffer direct = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(capacity));
        for (int round = 0; round < 20_000; round++)
        {
            random.nextBytes(data);
            switch (round % 16)
            {
                case 0 -> java.util.Arrays.fill(data, (byte)0xFF);
                case 1 -> java.util.Arrays.fill(data, (byte)0);
                case 2 -> java.util.Arrays.fill(data, (byte)0x80);
                default ->
                {
                }
            }
            direct.putBytes(0, data);
            final int length = random.nextInt(2001);
            final int offset = random.nextInt(capacity - length + 1);
            final int expected = ReferenceChecksum.onesComplementSum(data, offset, length);
            final String message = "seed " + seed + " round " + round + " offset " + offset + " length " + length;

            final long heapSum = Checksums.sum(heap, offset, length);
            assertEquals(expected, heapSum, message);
            assertEquals(expected, Checksums.fold(heapSum), message);
            assertEquals(expected, Checksums.sum(direct, offset, length), message + " (direct)");

            final int split = 2 * random.nextInt(length / 2 + 1);
            assertEquals(expected, Checksums.fold(
                Checksums.sum(heap, offset, split) + Checksums.sum(heap, offset + split, length - split)),
                message + " split " + split);
        }
    }

    @Test
    void foldOfLargeSums()
    {
        // A 64 KiB range of 0xFF: the long accumulator must not lose carries.
        final byte[] data = new byte[65535];
        java.util.Arrays.fill(data, (byte)0xFF);
        final UnsafeBuffer buffer = new UnsafeBuffer(data);
        assertEquals(ReferenceChecksum.onesComplementSum(data, 0, data.length), Checksums.fold(Checksums.sum(buffer, 0, data.length)));
        assertEquals(0xFFFF, Checksums.fold(0xFFFF_FFFF_FFFFL));
        assertEquals(1, Checksums.fold(0x1_0000L));
        assertEquals(0, Checksums.fold(0));
    }

    @Test
    void l4ChecksumMatchesReferenceAndIgnoresTheStoredField()
    {
        final long seed = 0x5eed_0002L;
        final Random random = new Random(seed);
        for (int round = 0; round < 2000; round++)
        {
            final boolean tcp = random.nextBoolean();
            final int ipOffset = random.nextInt(16);
            final int headerLength = 20 + 4 * random.nextInt(11);
            final int l4Length = (tcp ? 20 : 8) + random.nextInt(200);
            final byte[] frame = new byte[ipOffset + headerLength + l4Length + 16];
            random.nextBytes(frame);
            frame[ipOffset] = (byte)(0x40 | headerLength / 4);
            frame[ipOffset + 2] = (byte)((headerLength + l4Length) >>> 8);
            frame[ipOffset + 3] = (byte)(headerLength + l4Length);
            frame[ipOffset + 9] = (byte)(tcp ? 6 : 17);

            final UnsafeBuffer buffer = new UnsafeBuffer(frame);
            final int protocol = tcp ? Checksums.PROTOCOL_TCP : Checksums.PROTOCOL_UDP;
            final String message = "seed " + seed + " round " + round;
            assertEquals(ReferenceChecksum.l4Checksum(frame, ipOffset),
                Checksums.l4Checksum(buffer, ipOffset, ipOffset + headerLength, l4Length, protocol), message);
            assertEquals(ReferenceChecksum.ipv4HeaderChecksum(frame, ipOffset),
                Checksums.ipv4HeaderChecksum(buffer, ipOffset, headerLength), message);

            // Store the computed values: both now verify.
            final int l4 = ipOffset + headerLength;
            final int field = l4 + Checksums.l4ChecksumOffset(protocol);
            buffer.putShort(field, (short)Checksums.l4Checksum(buffer, ipOffset, l4, l4Length, protocol), java.nio.ByteOrder.BIG_ENDIAN);
            buffer.putShort(ipOffset + 10, (short)Checksums.ipv4HeaderChecksum(buffer, ipOffset, headerLength), java.nio.ByteOrder.BIG_ENDIAN);
            assertTrue(Checksums.ipv4HeaderValid(buffer, ipOffset, headerLength), message);
            assertEquals(0xFFFF, Checksums.fold(
                Checksums.sum(buffer, ipOffset + 12, 8) + protocol + l4Length + Checksums.sum(buffer, l4, l4Length)), message);
        }
    }

    @Test
    void l4ChecksumRejectsOtherProtocols()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        assertThrows(IllegalArgumentException.class, () -> Checksums.l4Checksum(buffer, 0, 20, 8, 1));
    }

    @Test
    void icmpChecksum()
    {
        // Echo request, id 0x1234 seq 1, 16 bytes "a".."p": checksum a27f (computed independently).
        final byte[] message = hex("08000000123400016162636465666768696a6b6c6d6e6f70");
        final UnsafeBuffer buffer = new UnsafeBuffer(message);
        assertEquals(0xa27f, Checksums.icmpChecksum(buffer, 0, message.length));
        assertFalse(Checksums.internetChecksumValid(buffer, 0, message.length));
        buffer.putShort(2, (short)0xa27f, java.nio.ByteOrder.BIG_ENDIAN);
        assertTrue(Checksums.internetChecksumValid(buffer, 0, message.length));
    }

    @Test
    void incrementalUpdatesEqualFullRecomputation()
    {
        final long seed = 0x5eed_0003L;
        final Random random = new Random(seed);
        final byte[] data = new byte[40];
        for (int round = 0; round < 200_000; round++)
        {
            random.nextBytes(data);
            if (round % 7 == 0)
            {
                // Bias towards the edges of ones' complement arithmetic.
                data[0] = (byte)0xFF;
                data[1] = (byte)(round % 3 == 0 ? 0xFF : 0x00);
            }
            data[2] = 0;
            data[3] = 0;
            final int checksum = ~ReferenceChecksum.onesComplementSum(data, 0, data.length) & 0xFFFF;
            final String message = "seed " + seed + " round " + round;

            final int at16 = 4 + 2 * random.nextInt(18);
            final int oldWord = u16(data, at16);
            final int newWord = random.nextInt(8) == 0 ? oldWord : random.nextInt(0x10000);
            putU16(data, at16, newWord);
            final int expected16 = ~ReferenceChecksum.onesComplementSum(data, 0, data.length) & 0xFFFF;
            assertEquals(expected16, Checksums.update16(checksum, oldWord, newWord), message);

            final int at32 = 4 + 2 * random.nextInt(17);
            final int oldValue = u16(data, at32) << 16 | u16(data, at32 + 2);
            final int newValue = random.nextInt();
            putU16(data, at32, newValue >>> 16);
            putU16(data, at32 + 2, newValue & 0xFFFF);
            final int expected32 = ~ReferenceChecksum.onesComplementSum(data, 0, data.length) & 0xFFFF;
            assertEquals(expected32, Checksums.update32(expected16, oldValue, newValue), message);
        }
    }

    @Test
    void udpUpdateKeepsZeroAndNeverProducesZero()
    {
        // "No checksum" stays so, whatever changes.
        assertEquals(0, Checksums.updateUdp16(0, 0x1234, 0x4321));
        assertEquals(0, Checksums.updateUdp32(0, 0xC612000A, 0xC6120205));

        // A change that makes the true checksum 0 must be sent as 0xFFFF: sum 0xFFFF - x, then add x.
        final int word = 0x1234;
        final int sumWithoutWord = 0xFFFF - word;
        final int before = ~sumWithoutWord & 0xFFFF;   // the word is 0 before the change
        assertEquals(0, Checksums.update16(before, 0, word));
        assertEquals(0xFFFF, Checksums.updateUdp16(before, 0, word));
        assertEquals(0xFFFF, Checksums.updateUdp32(before, 0, word));

        // And the 0xFFFF that stands for zero updates on correctly: change the word back.
        assertEquals(before, Checksums.updateUdp16(0xFFFF, word, 0));
        assertEquals(before, Checksums.update16(0xFFFF, word, 0));
    }

    private static int u16(final byte[] data, final int index)
    {
        return (data[index] & 0xFF) << 8 | data[index + 1] & 0xFF;
    }

    private static void putU16(final byte[] data, final int index, final int value)
    {
        data[index] = (byte)(value >>> 8);
        data[index + 1] = (byte)value;
    }

    private static byte[] hex(final String hex)
    {
        final byte[] bytes = new byte[hex.length() / 2];
        for (int i = 0; i < bytes.length; i++)
        {
            bytes[i] = (byte)Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return bytes;
    }
}
