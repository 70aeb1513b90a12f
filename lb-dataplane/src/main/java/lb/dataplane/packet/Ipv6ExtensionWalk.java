package lb.dataplane.packet;

import org.agrona.DirectBuffer;

import static java.nio.ByteOrder.BIG_ENDIAN;

/**
 * A bounded walk from an IPv6 header over its extension headers (RFC 8200 section 4) to the
 * upper-layer header. It skips the three extension headers a load balancer may pass over without
 * acting on them (hop-by-hop options, routing with no segments left, destination options) and stops
 * with a named {@link Outcome} at anything else it recognises as an extension header, at a fragment
 * header (fragments are dropped and counted, not reassembled), at a header that does not fit, and
 * after {@link #MAX_EXTENSION_HEADERS}. Every read is checked against the end of the payload, which
 * is checked against the end of the frame, so a walk never reads outside the frame.
 * <p>
 * One instance per worker, reused: {@link #walk} allocates nothing and fills the fields below.
 * <pre>
 *   extension header: 0 next header  1 header extension length (8-byte units after the first 8)
 *   routing:          2 routing type  3 segments left
 *   fragment:         2 fragment offset (13 bits) | res (2) | M (1)  4 identification  (8 bytes fixed)
 * </pre>
 */
public final class Ipv6ExtensionWalk
{
    /** Why a walk stopped. */
    public enum Outcome
    {
        /** Reached an upper-layer header: {@link #upperLayerProtocol} at {@link #upperLayerOffset}. */
        UPPER_LAYER,
        /** The fixed header or its payload (by payload length) does not fit in the frame, or an extension header does not fit in the payload. */
        TRUNCATED,
        /** The version field is not 6. */
        NOT_IPV6,
        /** A fragment header: lb does not reassemble; {@link #fragmentHeaderOffset} says where it is. */
        FRAGMENT,
        /**
         * An extension header lb does not pass over: AH, ESP, mobility, HIP, shim6, the experimental
         * values, a hop-by-hop header anywhere but first, or a routing header with segments left
         * (the destination address is then not the packet's final one).
         */
        UNSUPPORTED_EXTENSION,
        /** More than {@link #MAX_EXTENSION_HEADERS} extension headers before the upper layer. */
        TOO_MANY_EXTENSIONS
    }

    /** Next header: hop-by-hop options. */
    public static final int HOP_BY_HOP = 0;
    /** Next header: routing. */
    public static final int ROUTING = 43;
    /** Next header: fragment. */
    public static final int FRAGMENT = 44;
    /** Next header: encapsulating security payload. */
    public static final int ESP = 50;
    /** Next header: authentication header (its length field counts 4-byte units, RFC 4302). */
    public static final int AUTHENTICATION = 51;
    /** Next header: no next header (nothing follows; reported as an upper layer of that number). */
    public static final int NO_NEXT_HEADER = 59;
    /** Next header: destination options. */
    public static final int DESTINATION_OPTIONS = 60;
    /** Next header: mobility (RFC 6275). */
    public static final int MOBILITY = 135;
    /** Next header: host identity protocol (RFC 7401). */
    public static final int HIP = 139;
    /** Next header: shim6 (RFC 5533). */
    public static final int SHIM6 = 140;
    /** Next header: experimentation and testing (RFC 3692). */
    public static final int EXPERIMENTAL_1 = 253;
    /** Next header: experimentation and testing (RFC 3692). */
    public static final int EXPERIMENTAL_2 = 254;

    /** Offset of the next header field in an extension header. */
    public static final int EXTENSION_NEXT_HEADER_OFFSET = 0;
    /** Offset of the header extension length field. */
    public static final int EXTENSION_LENGTH_OFFSET = 1;
    /** Offset of a routing header's segments left. */
    public static final int ROUTING_SEGMENTS_LEFT_OFFSET = 3;
    /** Offset of a fragment header's offset and M flag. */
    public static final int FRAGMENT_OFFSET_FLAGS_OFFSET = 2;
    /** Length of a fragment header. */
    public static final int FRAGMENT_HEADER_LENGTH = 8;
    /** The length unit of the header extension length, and the smallest extension header. */
    public static final int EXTENSION_UNIT = 8;

    /**
     * The most extension headers a walk passes over. RFC 8200 section 4.1's order gives at most four
     * skippable ones (hop-by-hop, destination options, routing, destination options); twice that
     * leaves room for odd but harmless senders and still bounds the work per packet.
     */
    public static final int MAX_EXTENSION_HEADERS = 8;

    /** Upper-layer protocol (TCP 6, UDP 17, ICMPv6 58, ...), valid after {@link Outcome#UPPER_LAYER}. */
    public int upperLayerProtocol;
    /** Offset of the upper-layer header in the buffer, valid after {@link Outcome#UPPER_LAYER}. */
    public int upperLayerOffset;
    /** Bytes from the upper-layer header to the end of the payload, valid after {@link Outcome#UPPER_LAYER}. */
    public int upperLayerLength;
    /** End of the payload by the payload length (before any Ethernet padding), once the fixed header fitted. */
    public int payloadEnd;
    /** Extension headers passed over. */
    public int extensionHeaderCount;
    /** Offset of the fragment header after {@link Outcome#FRAGMENT}, else -1. */
    public int fragmentHeaderOffset;
    /** Type of the header the walk stopped at (the unsupported one, or the upper layer). */
    public int stoppedAtHeader;

    /**
     * Walk from the IPv6 header at {@code ipOffset} to its upper-layer header.
     *
     * @param buffer   holding the frame.
     * @param ipOffset of the IPv6 header.
     * @param frameEnd offset just after the frame's last byte.
     * @return why the walk stopped; the fields say where.
     */
    public Outcome walk(final DirectBuffer buffer, final int ipOffset, final int frameEnd)
    {
        upperLayerProtocol = -1;
        upperLayerOffset = -1;
        upperLayerLength = 0;
        payloadEnd = -1;
        extensionHeaderCount = 0;
        fragmentHeaderOffset = -1;
        stoppedAtHeader = -1;

        if (ipOffset < 0 || frameEnd - ipOffset < Ipv6Header.HEADER_LENGTH)
        {
            return Outcome.TRUNCATED;
        }
        if ((buffer.getByte(ipOffset + Ipv6Header.VERSION_CLASS_FLOW_OFFSET) & 0xF0) != Ipv6Header.VERSION << 4)
        {
            return Outcome.NOT_IPV6;
        }
        final int end = ipOffset + Ipv6Header.HEADER_LENGTH +
            (buffer.getShort(ipOffset + Ipv6Header.PAYLOAD_LENGTH_OFFSET, BIG_ENDIAN) & 0xFFFF);
        if (end > frameEnd)
        {
            return Outcome.TRUNCATED;
        }
        payloadEnd = end;

        int header = buffer.getByte(ipOffset + Ipv6Header.NEXT_HEADER_OFFSET) & 0xFF;
        int position = ipOffset + Ipv6Header.HEADER_LENGTH;
        while (true)
        {
            stoppedAtHeader = header;
            if (header == FRAGMENT)
            {
                fragmentHeaderOffset = position;
                return position + FRAGMENT_HEADER_LENGTH > end ? Outcome.TRUNCATED : Outcome.FRAGMENT;
            }
            if (isUnsupportedExtension(header) || header == HOP_BY_HOP && extensionHeaderCount > 0)
            {
                return Outcome.UNSUPPORTED_EXTENSION;
            }
            if (header != HOP_BY_HOP && header != ROUTING && header != DESTINATION_OPTIONS)
            {
                upperLayerProtocol = header;
                upperLayerOffset = position;
                upperLayerLength = end - position;
                return Outcome.UPPER_LAYER;
            }
            if (extensionHeaderCount == MAX_EXTENSION_HEADERS)
            {
                return Outcome.TOO_MANY_EXTENSIONS;
            }
            // Every skippable header is at least 8 bytes: checking those first covers the two length bytes.
            if (end - position < EXTENSION_UNIT)
            {
                return Outcome.TRUNCATED;
            }
            final int length = EXTENSION_UNIT + EXTENSION_UNIT * (buffer.getByte(position + EXTENSION_LENGTH_OFFSET) & 0xFF);
            if (end - position < length)
            {
                return Outcome.TRUNCATED;
            }
            if (header == ROUTING && buffer.getByte(position + ROUTING_SEGMENTS_LEFT_OFFSET) != 0)
            {
                return Outcome.UNSUPPORTED_EXTENSION;
            }
            extensionHeaderCount++;
            header = buffer.getByte(position + EXTENSION_NEXT_HEADER_OFFSET) & 0xFF;
            position += length;
        }
    }

    /**
     * @param header a next header value.
     * @return whether it is an extension header lb does not pass over (fragment aside).
     */
    public static boolean isUnsupportedExtension(final int header)
    {
        return header == ESP || header == AUTHENTICATION || header == MOBILITY || header == HIP ||
            header == SHIM6 || header == EXPERIMENTAL_1 || header == EXPERIMENTAL_2;
    }
}
