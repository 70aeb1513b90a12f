package lb.dataplane.checksum;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * The Internet checksum (RFC 1071) for IPv4 headers, TCP/UDP segments over IPv4 and IPv6 and ICMPv6, and its incremental
 * update (RFC 1624), over Agrona buffers. Static, allocation-free, no bounds checks beyond the
 * buffer's own: callers pass ranges the classifier has already checked.
 * <p>
 * Every method takes and returns 16-bit values in the low bits of an {@code int}, as they are
 * stored in the packet (big-endian, i.e. the value {@code getShort(index, BIG_ENDIAN) & 0xFFFF}).
 * <p>
 * {@link #sum} reads 8 bytes at a time in the machine's native byte order and adds the two 32-bit halves into a
 * {@code long}. The ones' complement sum is the same whatever word width is folded down to 16 bits at the end
 * (2^32 and 2^16 are both 1 modulo 0xFFFF), and it does not depend on byte order either (RFC 1071 section 2(B)):
 * summing byte-swapped words gives the byte-swapped sum, so on a little-endian machine the folded result is swapped
 * once instead of every word. x86 reads unaligned longs at full speed, so no alignment prologue is needed.
 */
public final class Checksums
{
    /** IP protocol number of TCP. */
    public static final int PROTOCOL_TCP = 6;
    /** IP protocol number of UDP. */
    public static final int PROTOCOL_UDP = 17;
    /** IPv6 next header number of ICMPv6. */
    public static final int PROTOCOL_ICMPV6 = 58;

    /** Offset of the checksum field within an IPv4 header. */
    public static final int IPV4_CHECKSUM_OFFSET = 10;
    /** Offset of the source address within an IPv4 header (the destination follows it). */
    public static final int IPV4_SOURCE_OFFSET = 12;
    /** Offset of the checksum field within a TCP header. */
    public static final int TCP_CHECKSUM_OFFSET = 16;
    /** Offset of the checksum field within a UDP header. */
    public static final int UDP_CHECKSUM_OFFSET = 6;
    /** Offset of the checksum field within an ICMPv6 header. */
    public static final int ICMPV6_CHECKSUM_OFFSET = 2;
    /** Offset of the source address within an IPv6 header (the destination follows it). */
    public static final int IPV6_SOURCE_OFFSET = 8;
    /** Length of an IPv6 header's two addresses. */
    public static final int IPV6_ADDRESSES_LENGTH = 32;

    /** A UDP checksum of zero means "no checksum" (RFC 768); a computed zero is sent as this. */
    public static final int UDP_ZERO_CHECKSUM_SUBSTITUTE = 0xFFFF;

    // Native-order words of a little-endian machine are the packet's 16-bit words with their bytes swapped.
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private Checksums()
    {
    }

    /**
     * Ones' complement sum of a byte range as big-endian 16-bit words, already folded to 16 bits. An odd trailing
     * byte is the high byte of a last word padded with zero. The result is a valid unfolded sum too: callers may add
     * further big-endian 16-bit words or other sums to it (as the pseudo-header sums do) and {@link #fold(long)} the
     * total; {@code fold(sum(b, o, n)) == sum(b, o, n)}.
     *
     * @param buffer holding the range.
     * @param offset of the first byte.
     * @param length in bytes, at most 2^31 - 1 (the long cannot overflow below 2^32 words).
     * @return the sum folded to 16 bits: 0 if every byte is zero, else 1..0xFFFF.
     */
    public static long sum(final DirectBuffer buffer, final int offset, final int length)
    {
        // Words in native order: on a little-endian machine each 16-bit word is byte-swapped, and so is their sum.
        long sum = 0;
        int i = offset;
        final int end = offset + length;

        for (final int longsEnd = end - 7; i < longsEnd; i += 8)
        {
            final long word = buffer.getLong(i);
            sum += (word >>> 32) + (word & 0xFFFF_FFFFL);
        }

        if (end - i >= 4)
        {
            sum += buffer.getInt(i) & 0xFFFF_FFFFL;
            i += 4;
        }

        if (end - i >= 2)
        {
            sum += buffer.getShort(i) & 0xFFFF;
            i += 2;
        }

        if (i < end)
        {
            // The odd last byte is the high byte of a big-endian word: the low byte of the swapped one.
            final int lastByte = buffer.getByte(i) & 0xFF;
            sum += NATIVE_LITTLE_ENDIAN ? lastByte : lastByte << 8;
        }

        final int folded = fold(sum);
        return NATIVE_LITTLE_ENDIAN ? (folded >>> 8) | ((folded & 0xFF) << 8) : folded;
    }

    /**
     * Folds an unfolded ones' complement sum to 16 bits. A non-zero sum folds to 1..0xFFFF, never
     * to 0, which is what makes incremental and full computation agree bit for bit.
     *
     * @param sum non-negative unfolded sum.
     * @return the folded sum, 0..0xFFFF.
     */
    public static int fold(final long sum)
    {
        long folded = (sum & 0xFFFF_FFFFL) + (sum >>> 32);
        folded = (folded & 0xFFFF_FFFFL) + (folded >>> 32);
        folded = (folded & 0xFFFF) + (folded >>> 16);
        folded = (folded & 0xFFFF) + (folded >>> 16);
        return (int)((folded & 0xFFFF) + (folded >>> 16));
    }

    /**
     * The value to store in an IPv4 header's checksum field, computed as if that field were zero.
     *
     * @param buffer       holding the header.
     * @param ipOffset     of the header.
     * @param headerLength IHL * 4, 20..60.
     * @return checksum, 0..0xFFFF.
     */
    public static int ipv4HeaderChecksum(final DirectBuffer buffer, final int ipOffset, final int headerLength)
    {
        final int storedChecksum = buffer.getShort(ipOffset + IPV4_CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF;
        // Adding ~field subtracts the field in ones' complement arithmetic: the same as summing it as zero.
        final long sum = sum(buffer, ipOffset, headerLength) + (~storedChecksum & 0xFFFF);
        return ~fold(sum) & 0xFFFF;
    }

    /**
     * Whether an IPv4 header's checksum field is correct (the sum over the whole header is 0xFFFF).
     *
     * @param buffer       holding the header.
     * @param ipOffset     of the header.
     * @param headerLength IHL * 4, 20..60.
     * @return true if the header checksum verifies.
     */
    public static boolean ipv4HeaderValid(final DirectBuffer buffer, final int ipOffset, final int headerLength)
    {
        return fold(sum(buffer, ipOffset, headerLength)) == 0xFFFF;
    }

    /**
     * Whether a checksum over a range with no pseudo-header (ICMP) verifies.
     *
     * @param buffer holding the message.
     * @param offset of the message.
     * @param length of the message, checksum field included.
     * @return true if the sum over the range is 0xFFFF.
     */
    public static boolean internetChecksumValid(final DirectBuffer buffer, final int offset, final int length)
    {
        return fold(sum(buffer, offset, length)) == 0xFFFF;
    }

    /**
     * The value to store in an ICMP message's checksum field at {@code offset + 2}, computed as if
     * that field were zero.
     *
     * @param buffer holding the message.
     * @param offset of the ICMP header.
     * @param length of the ICMP message (header and data).
     * @return checksum, 0..0xFFFF.
     */
    public static int icmpChecksum(final DirectBuffer buffer, final int offset, final int length)
    {
        final int storedChecksum = buffer.getShort(offset + 2, BIG_ENDIAN) & 0xFFFF;
        return ~fold(sum(buffer, offset, length) + (~storedChecksum & 0xFFFF)) & 0xFFFF;
    }

    /**
     * The full TCP or UDP checksum over the IPv4 pseudo-header (source, destination, protocol,
     * L4 length) and the segment, computed as if the checksum field were zero. For UDP a computed
     * zero is returned as 0xFFFF, as it must be transmitted (RFC 768).
     *
     * @param buffer   holding the packet.
     * @param ipOffset of the IPv4 header (for the addresses).
     * @param l4Offset of the TCP or UDP header.
     * @param l4Length IP total length minus IP header length.
     * @param protocol {@link #PROTOCOL_TCP} or {@link #PROTOCOL_UDP}.
     * @return checksum to store, 0..0xFFFF.
     * @throws IllegalArgumentException for any other protocol (a caller bug, not a packet property).
     */
    public static int l4Checksum(
        final DirectBuffer buffer, final int ipOffset, final int l4Offset, final int l4Length, final int protocol)
    {
        final int checksumOffset = l4ChecksumOffset(protocol);
        final int storedChecksum = buffer.getShort(l4Offset + checksumOffset, BIG_ENDIAN) & 0xFFFF;

        long sum = sum(buffer, ipOffset + IPV4_SOURCE_OFFSET, 8) + protocol + l4Length;
        sum += sum(buffer, l4Offset, l4Length) + (~storedChecksum & 0xFFFF);

        final int checksum = ~fold(sum) & 0xFFFF;
        return protocol == PROTOCOL_UDP && checksum == 0 ? UDP_ZERO_CHECKSUM_SUBSTITUTE : checksum;
    }

    /**
     * The IPv6 pseudo-header sum (RFC 8200 section 8.1): source and destination address, the
     * upper-layer packet length as 32 bits and the next header value as 32 bits, folded and not
     * complemented. The length is the upper layer's own (the payload length minus the extension
     * headers before it), and the destination is the one in the IPv6 header: lb does not pass over
     * routing headers with segments left, so that is always the final destination.
     *
     * @param buffer   holding the packet.
     * @param ipOffset of the IPv6 header (for the addresses).
     * @param l4Length upper-layer length in bytes.
     * @param protocol upper-layer protocol.
     * @return the pseudo-header sum, 0..0xFFFF.
     */
    public static int ipv6PseudoHeaderSum(
        final DirectBuffer buffer, final int ipOffset, final int l4Length, final int protocol)
    {
        final long sum = sum(buffer, ipOffset + IPV6_SOURCE_OFFSET, IPV6_ADDRESSES_LENGTH) +
            (l4Length >>> 16) + (l4Length & 0xFFFF) + protocol;
        return fold(sum);
    }

    /**
     * The full TCP, UDP or ICMPv6 checksum over the IPv6 pseudo-header and the upper-layer packet,
     * computed as if the checksum field were zero. For UDP a computed zero is returned as 0xFFFF:
     * over IPv6 a UDP checksum is mandatory and 0 is not a valid value (RFC 8200 section 8.1).
     *
     * @param buffer   holding the packet.
     * @param ipOffset of the IPv6 header (for the addresses).
     * @param l4Offset of the upper-layer header (after any extension headers).
     * @param l4Length upper-layer length in bytes.
     * @param protocol {@link #PROTOCOL_TCP}, {@link #PROTOCOL_UDP} or {@link #PROTOCOL_ICMPV6}.
     * @return checksum to store, 0..0xFFFF.
     * @throws IllegalArgumentException for any other protocol (a caller bug, not a packet property).
     */
    public static int ipv6L4Checksum(
        final DirectBuffer buffer, final int ipOffset, final int l4Offset, final int l4Length, final int protocol)
    {
        final int checksumOffset = protocol == PROTOCOL_ICMPV6 ? ICMPV6_CHECKSUM_OFFSET : l4ChecksumOffset(protocol);
        final int storedChecksum = buffer.getShort(l4Offset + checksumOffset, BIG_ENDIAN) & 0xFFFF;
        final long sum = ipv6PseudoHeaderSum(buffer, ipOffset, l4Length, protocol) +
            sum(buffer, l4Offset, l4Length) + (~storedChecksum & 0xFFFF);
        final int checksum = ~fold(sum) & 0xFFFF;
        return protocol == PROTOCOL_UDP && checksum == 0 ? UDP_ZERO_CHECKSUM_SUBSTITUTE : checksum;
    }

    /**
     * Whether a TCP, UDP or ICMPv6 checksum over IPv6 verifies: the pseudo-header and the whole
     * upper-layer packet, its checksum field included, sum to 0xFFFF. A UDP checksum of 0 fails,
     * as over IPv6 it must (RFC 8200 section 8.1).
     *
     * @param buffer   holding the packet.
     * @param ipOffset of the IPv6 header.
     * @param l4Offset of the upper-layer header.
     * @param l4Length upper-layer length in bytes.
     * @param protocol upper-layer protocol.
     * @return true if the checksum verifies.
     */
    public static boolean ipv6L4ChecksumValid(
        final DirectBuffer buffer, final int ipOffset, final int l4Offset, final int l4Length, final int protocol)
    {
        if (protocol == PROTOCOL_UDP && (buffer.getShort(l4Offset + UDP_CHECKSUM_OFFSET, BIG_ENDIAN) & 0xFFFF) == 0)
        {
            return false;
        }
        return fold(ipv6PseudoHeaderSum(buffer, ipOffset, l4Length, protocol) + sum(buffer, l4Offset, l4Length)) == 0xFFFF;
    }

    /**
     * Offset of the checksum field within the L4 header of a protocol.
     *
     * @param protocol {@link #PROTOCOL_TCP} or {@link #PROTOCOL_UDP}.
     * @return 16 for TCP, 6 for UDP.
     * @throws IllegalArgumentException for any other protocol.
     */
    public static int l4ChecksumOffset(final int protocol)
    {
        if (protocol == PROTOCOL_TCP)
        {
            return TCP_CHECKSUM_OFFSET;
        }
        if (protocol == PROTOCOL_UDP)
        {
            return UDP_CHECKSUM_OFFSET;
        }
        throw new IllegalArgumentException("no TCP/UDP checksum for protocol " + protocol);
    }

    /**
     * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the checksum after one 16-bit word changes. Given a
     * checksum as full computation produces it, the result is bit-identical to full recomputation.
     *
     * @param checksum old checksum field.
     * @param oldWord  old value of the 16-bit word (low 16 bits used).
     * @param newWord  new value of the 16-bit word (low 16 bits used).
     * @return new checksum field, 0..0xFFFF.
     */
    public static int update16(final int checksum, final int oldWord, final int newWord)
    {
        final int sum = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        return ~fold16(sum) & 0xFFFF;
    }

    /**
     * RFC 1624 eqn. 3 for a 32-bit field (an IPv4 address), as two 16-bit words.
     *
     * @param checksum old checksum field.
     * @param oldValue old 32-bit value.
     * @param newValue new 32-bit value.
     * @return new checksum field, 0..0xFFFF.
     */
    public static int update32(final int checksum, final int oldValue, final int newValue)
    {
        final int sum = (~checksum & 0xFFFF) +
            (~oldValue >>> 16) + (~oldValue & 0xFFFF) +
            (newValue >>> 16) + (newValue & 0xFFFF);
        return ~fold16(sum) & 0xFFFF;
    }

    /**
     * RFC 1624 eqn. 3 for a 128-bit field (an IPv6 address in the pseudo-header, for NAT66), as
     * eight 16-bit words, the address given as its high and low 64 bits.
     *
     * @param checksum old checksum field.
     * @param oldHigh  old address, high 64 bits.
     * @param oldLow   old address, low 64 bits.
     * @param newHigh  new address, high 64 bits.
     * @param newLow   new address, low 64 bits.
     * @return new checksum field, 0..0xFFFF.
     */
    public static int update128(
        final int checksum, final long oldHigh, final long oldLow, final long newHigh, final long newLow)
    {
        // Seventeen 16-bit terms stay below 2^21, which fold16's two folds bring to 16 bits.
        final int sum = (~checksum & 0xFFFF) +
            wordSum(~oldHigh) + wordSum(~oldLow) + wordSum(newHigh) + wordSum(newLow);
        return ~fold16(sum) & 0xFFFF;
    }

    /**
     * {@link #update128} for a UDP checksum over IPv6: the result is never 0 (a computed 0 is sent
     * as 0xFFFF). Unlike {@link #updateUdp32} a stored 0 is not kept: over IPv6 it is not "no
     * checksum" but an invalid one, which callers drop before rewriting.
     *
     * @param checksum old UDP checksum field.
     * @param oldHigh  old address, high 64 bits.
     * @param oldLow   old address, low 64 bits.
     * @param newHigh  new address, high 64 bits.
     * @param newLow   new address, low 64 bits.
     * @return new UDP checksum field, 1..0xFFFF.
     */
    public static int updateUdp128(
        final int checksum, final long oldHigh, final long oldLow, final long newHigh, final long newLow)
    {
        final int updated = update128(checksum, oldHigh, oldLow, newHigh, newLow);
        return updated == 0 ? UDP_ZERO_CHECKSUM_SUBSTITUTE : updated;
    }

    /**
     * {@link #update16} for a UDP checksum field: 0 ("no checksum") stays 0, and a non-zero
     * checksum never becomes 0 (a computed 0 is sent as 0xFFFF).
     *
     * @param checksum old UDP checksum field.
     * @param oldWord  old 16-bit value.
     * @param newWord  new 16-bit value.
     * @return new UDP checksum field.
     */
    public static int updateUdp16(final int checksum, final int oldWord, final int newWord)
    {
        if (checksum == 0)
        {
            return 0;
        }
        final int updated = update16(checksum, oldWord, newWord);
        return updated == 0 ? UDP_ZERO_CHECKSUM_SUBSTITUTE : updated;
    }

    /**
     * {@link #update32} for a UDP checksum field, with the zero rules of {@link #updateUdp16}.
     *
     * @param checksum old UDP checksum field.
     * @param oldValue old 32-bit value.
     * @param newValue new 32-bit value.
     * @return new UDP checksum field.
     */
    public static int updateUdp32(final int checksum, final int oldValue, final int newValue)
    {
        if (checksum == 0)
        {
            return 0;
        }
        final int updated = update32(checksum, oldValue, newValue);
        return updated == 0 ? UDP_ZERO_CHECKSUM_SUBSTITUTE : updated;
    }

    /**
     * The pseudo-header partial sum of a frame whose checksum offload is still pending
     * (CHECKSUM_PARTIAL): the field holds the folded, not complemented, sum of the pseudo-header,
     * and whoever transmits it adds the L4 bytes and complements. When an address in the
     * pseudo-header changes, the partial sum changes as a plain ones'-complement sum:
     * P' = P + ~m + m'. Ports are not in the pseudo-header, so they need no adjustment here.
     *
     * @param partial  old partial sum in the checksum field.
     * @param oldValue old 32-bit address.
     * @param newValue new 32-bit address.
     * @return new partial sum, 0..0xFFFF.
     */
    public static int updatePartial32(final int partial, final int oldValue, final int newValue)
    {
        final int sum = (partial & 0xFFFF) +
            (~oldValue >>> 16) + (~oldValue & 0xFFFF) +
            (newValue >>> 16) + (newValue & 0xFFFF);
        return fold16(sum);
    }

    private static int wordSum(final long value)
    {
        return (int)(value >>> 48) + ((int)(value >>> 32) & 0xFFFF) + ((int)(value >>> 16) & 0xFFFF) + ((int)value & 0xFFFF);
    }

    private static int fold16(final int sum)
    {
        // At most five 16-bit terms: two folds bring any such sum to 16 bits.
        final int once = (sum & 0xFFFF) + (sum >>> 16);
        return (once & 0xFFFF) + (once >>> 16);
    }
}
