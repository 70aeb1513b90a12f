package lb.dataplane.checksum;

/**
 * A deliberately plain Internet checksum over byte arrays, for tests: 16-bit words one at a time,
 * end-around carry after every addition, the checksum field copied out and zeroed. It shares no
 * code with {@link Checksums}, so the two check each other.
 */
public final class ReferenceChecksum
{
    private ReferenceChecksum()
    {
    }

    /**
     * Ones' complement sum of 16-bit big-endian words, an odd last byte padded with zero.
     *
     * @param data   bytes.
     * @param offset first byte.
     * @param length number of bytes.
     * @return the folded sum, 0..0xFFFF.
     */
    public static int onesComplementSum(final byte[] data, final int offset, final int length)
    {
        int sum = 0;
        for (int i = 0; i < length; i += 2)
        {
            final int high = data[offset + i] & 0xFF;
            final int low = i + 1 < length ? data[offset + i + 1] & 0xFF : 0;
            sum += high << 8 | low;
            if (sum > 0xFFFF)
            {
                sum = (sum & 0xFFFF) + 1;
            }
        }
        return sum;
    }

    /**
     * The checksum to store in an IPv4 header.
     *
     * @param frame    bytes holding the header.
     * @param ipOffset index of the header.
     * @return checksum computed with the field as zero.
     */
    public static int ipv4HeaderChecksum(final byte[] frame, final int ipOffset)
    {
        final int headerLength = (frame[ipOffset] & 0x0F) * 4;
        final byte[] header = new byte[headerLength];
        System.arraycopy(frame, ipOffset, header, 0, headerLength);
        header[10] = 0;
        header[11] = 0;
        return ~onesComplementSum(header, 0, headerLength) & 0xFFFF;
    }

    /**
     * The TCP or UDP checksum to store, from the IPv4 header's addresses, protocol, IHL and total
     * length; a UDP result of 0 is given as 0xFFFF.
     *
     * @param frame    bytes holding the datagram.
     * @param ipOffset index of the IPv4 header.
     * @return checksum computed with the field as zero.
     */
    public static int l4Checksum(final byte[] frame, final int ipOffset)
    {
        final int headerLength = (frame[ipOffset] & 0x0F) * 4;
        final int totalLength = (frame[ipOffset + 2] & 0xFF) << 8 | frame[ipOffset + 3] & 0xFF;
        final int protocol = frame[ipOffset + 9] & 0xFF;
        final int l4Length = totalLength - headerLength;
        final int checksumOffset = protocol == 6 ? 16 : protocol == 17 ? 6 : -1;
        if (checksumOffset < 0)
        {
            throw new IllegalArgumentException("protocol " + protocol);
        }

        final byte[] pseudo = new byte[12 + l4Length];
        System.arraycopy(frame, ipOffset + 12, pseudo, 0, 8);
        pseudo[8] = 0;
        pseudo[9] = (byte)protocol;
        pseudo[10] = (byte)(l4Length >>> 8);
        pseudo[11] = (byte)l4Length;
        System.arraycopy(frame, ipOffset + headerLength, pseudo, 12, l4Length);
        pseudo[12 + checksumOffset] = 0;
        pseudo[12 + checksumOffset + 1] = 0;

        final int checksum = ~onesComplementSum(pseudo, 0, pseudo.length) & 0xFFFF;
        return protocol == 17 && checksum == 0 ? 0xFFFF : checksum;
    }

    /**
     * The pseudo-header sum alone, folded and not complemented: what Linux leaves in the L4
     * checksum field of a CHECKSUM_PARTIAL packet for the NIC to finish.
     *
     * @param frame    bytes holding the datagram.
     * @param ipOffset index of the IPv4 header.
     * @return the partial sum, 0..0xFFFF.
     */
    public static int pseudoHeaderSum(final byte[] frame, final int ipOffset)
    {
        final int headerLength = (frame[ipOffset] & 0x0F) * 4;
        final int totalLength = (frame[ipOffset + 2] & 0xFF) << 8 | frame[ipOffset + 3] & 0xFF;
        final int l4Length = totalLength - headerLength;
        final byte[] pseudo = new byte[12];
        System.arraycopy(frame, ipOffset + 12, pseudo, 0, 8);
        pseudo[9] = frame[ipOffset + 9];
        pseudo[10] = (byte)(l4Length >>> 8);
        pseudo[11] = (byte)l4Length;
        return onesComplementSum(pseudo, 0, 12);
    }

    /**
     * Whether the bytes sum to 0xFFFF (a verifying checksum over a range that includes its field).
     *
     * @param data   bytes.
     * @param offset first byte.
     * @param length number of bytes.
     * @return true if the checksum verifies.
     */
    public static boolean verifies(final byte[] data, final int offset, final int length)
    {
        return onesComplementSum(data, offset, length) == 0xFFFF;
    }
}
