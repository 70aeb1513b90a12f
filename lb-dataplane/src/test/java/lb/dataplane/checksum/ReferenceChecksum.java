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
     * The TCP, UDP or ICMPv6 checksum to store in an IPv6 packet (RFC 8200 section 8.1): the
     * pseudo-header is built as bytes (source, destination, 32-bit upper-layer length, three zero
     * bytes, next header) in front of a copy of the upper-layer packet with its checksum zeroed.
     * The upper-layer length runs from {@code l4Offset} to the end of the payload by the IPv6
     * payload length. A UDP result of 0 is given as 0xFFFF.
     *
     * @param frame    bytes holding the packet.
     * @param ipOffset index of the IPv6 header.
     * @param l4Offset index of the upper-layer header (after any extension headers).
     * @param protocol 6, 17 or 58.
     * @return checksum computed with the field as zero.
     */
    public static int ipv6L4Checksum(final byte[] frame, final int ipOffset, final int l4Offset, final int protocol)
    {
        final int checksumOffset = protocol == 6 ? 16 : protocol == 17 ? 6 : protocol == 58 ? 2 : -1;
        if (checksumOffset < 0)
        {
            throw new IllegalArgumentException("protocol " + protocol);
        }
        final int l4Length = ipv6UpperLayerLength(frame, ipOffset, l4Offset);
        final byte[] pseudo = new byte[40 + l4Length];
        System.arraycopy(ipv6PseudoHeader(frame, ipOffset, l4Length, protocol), 0, pseudo, 0, 40);
        System.arraycopy(frame, l4Offset, pseudo, 40, l4Length);
        pseudo[40 + checksumOffset] = 0;
        pseudo[40 + checksumOffset + 1] = 0;

        final int checksum = ~onesComplementSum(pseudo, 0, pseudo.length) & 0xFFFF;
        return protocol == 17 && checksum == 0 ? 0xFFFF : checksum;
    }

    /**
     * The IPv6 pseudo-header sum alone, folded and not complemented.
     *
     * @param frame    bytes holding the packet.
     * @param ipOffset index of the IPv6 header.
     * @param l4Length upper-layer length.
     * @param protocol next header value of the upper layer.
     * @return the sum, 0..0xFFFF.
     */
    public static int ipv6PseudoHeaderSum(final byte[] frame, final int ipOffset, final int l4Length, final int protocol)
    {
        return onesComplementSum(ipv6PseudoHeader(frame, ipOffset, l4Length, protocol), 0, 40);
    }

    /**
     * @return bytes from {@code l4Offset} to the end of the IPv6 payload by its payload length.
     */
    public static int ipv6UpperLayerLength(final byte[] frame, final int ipOffset, final int l4Offset)
    {
        final int payloadLength = (frame[ipOffset + 4] & 0xFF) << 8 | frame[ipOffset + 5] & 0xFF;
        return ipOffset + 40 + payloadLength - l4Offset;
    }

    private static byte[] ipv6PseudoHeader(final byte[] frame, final int ipOffset, final int l4Length, final int protocol)
    {
        final byte[] pseudo = new byte[40];
        System.arraycopy(frame, ipOffset + 8, pseudo, 0, 32);
        pseudo[32] = (byte)(l4Length >>> 24);
        pseudo[33] = (byte)(l4Length >>> 16);
        pseudo[34] = (byte)(l4Length >>> 8);
        pseudo[35] = (byte)l4Length;
        pseudo[39] = (byte)protocol;
        return pseudo;
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
