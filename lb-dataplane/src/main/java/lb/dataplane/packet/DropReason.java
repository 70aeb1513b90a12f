package lb.dataplane.packet;

import java.util.Locale;

/**
 * Why lb dropped a frame: the single list of every drop in lb. Each drop increments the counter
 * named by {@link #metricName()}. The classifier produces the first group; the pipeline, the
 * ICMP responder and the packet I/O produce the rest.
 */
public enum DropReason
{
    // Produced by FrameClassifier.
    TRUNCATED_ETHERNET("frame shorter than an Ethernet header"),
    TRUNCATED_VLAN("frame ends inside an 802.1Q/802.1ad tag"),
    UNKNOWN_ETHERTYPE("ethertype is neither IPv4, IPv6 nor ARP (or more than two VLAN tags)"),
    TRUNCATED_ARP("frame shorter than an Ethernet/IPv4 ARP packet"),
    UNSUPPORTED_ARP("ARP not for Ethernet/IPv4, or an operation other than request/reply"),
    TRUNCATED_IPV4("frame shorter than a minimal IPv4 header"),
    BAD_IP_VERSION("IP version field is not 4 (IPv4 ethertype) or 6 (IPv6 ethertype)"),
    BAD_IHL("IPv4 header length below 20 bytes or beyond the frame"),
    BAD_TOTAL_LENGTH("IPv4 total length below the header length or beyond the frame"),
    BAD_IP_CHECKSUM("IPv4 header checksum does not verify"),
    IPV4_FRAGMENT("IPv4 fragment (more-fragments set or non-zero offset)"),
    IPV4_THIS_NETWORK("IPv4 source or destination, or ARP target, in 0.0.0.0/8: never on the wire, and lb's IPv6 aliases live there"),
    TRUNCATED_IPV6("frame shorter than the 40-byte IPv6 header"),
    BAD_PAYLOAD_LENGTH("IPv6 payload length beyond the frame"),
    TRUNCATED_IPV6_EXTENSION("an IPv6 extension header runs past the payload"),
    IPV6_FRAGMENT("IPv6 fragment header: lb does not reassemble"),
    UNSUPPORTED_IPV6_EXTENSION("IPv6 extension header lb does not pass over (AH, ESP, mobility, HIP, shim6, experimental, routing with segments left, hop-by-hop not first)"),
    TOO_MANY_IPV6_EXTENSIONS("more than 8 IPv6 extension headers before the upper layer"),
    TRUNCATED_TCP("IP payload shorter than a TCP header"),
    BAD_TCP_OFFSET("TCP data offset below 5 words or beyond the IP payload"),
    TRUNCATED_UDP("IP payload shorter than a UDP header"),
    BAD_UDP_LENGTH("UDP length field differs from the IP payload length"),
    IPV6_UDP_ZERO_CHECKSUM("UDP over IPv6 with checksum 0, which RFC 8200 forbids"),
    TRUNCATED_ICMP("IP payload shorter than an 8-byte ICMP or ICMPv6 header"),
    UNSUPPORTED_PROTOCOL("IPv4 protocol other than TCP, UDP or ICMP; IPv6 upper layer other than TCP, UDP or ICMPv6"),

    // Produced by the pipeline, the rewrite actions and the ICMP responder.
    NOT_FOR_US("destination is none of our addresses"),
    NO_SERVICE("no service on the destination address, port and protocol"),
    NO_BACKEND("service has no usable backend"),
    NO_NEXT_HOP("route has no usable next hop"),
    VLAN_TAGGED("802.1Q/802.1ad-tagged frame: lb's interfaces carry untagged traffic only"),
    TTL_EXCEEDED("TTL 1 or 0 on arrival: cannot forward"),
    RETURN_KEY_IN_USE("the backend already carries a flow from this client address and port (through another VIP): replies could not be told apart"),
    FLOW_TABLE_FULL("no room in the flow table for a new flow"),
    NO_FLOW("TCP segment without SYN from a client, or a backend packet, matching no flow"),
    BAD_ICMP_CHECKSUM("ICMP checksum does not verify"),
    UNSUPPORTED_ICMP("ICMP message lb neither answers nor relays"),
    ICMP_ERROR_NO_FLOW("ICMP or ICMPv6 error (unreachable, packet too big, time exceeded, parameter problem) about a packet of no flow lb holds"),
    ICMP_ERROR_BAD_QUOTE("ICMP or ICMPv6 error whose quoted packet is cut short, malformed, a non-first fragment, or not from the error's addressee"),
    ICMP_ERROR_ABOUT_ICMP("ICMP or ICMPv6 error about an ICMP or ICMPv6 message: never relayed (no error about an error, and lb keeps no ICMP flows)"),
    ICMPV6_ERROR_QUOTE_EXTENSION("ICMPv6 error whose quoted packet has an extension header after its fixed header: lb relays errors quoting TCP/UDP directly"),
    IPV6_NOT_FOR_US("IPv6 packet not to lb's MAC, or to an address lb does not hold (multicast listener reports among them)"),
    NDP_NOT_FOR_US("neighbour discovery lb does not answer: a solicitation for another address, an advertisement from the client side, router solicitations, advertisements and redirects"),
    BAD_NDP("neighbour solicitation or advertisement failing RFC 4861 section 7.1's checks (hop limit, code, checksum, options)"),
    BAD_ICMPV6_CHECKSUM("ICMPv6 echo request or error about a flow whose checksum does not verify"),
    UNSUPPORTED_ICMPV6("ICMPv6 message to lb's own address or a VIP that lb neither answers nor relays (informational types other than echo and NDP, errors to lb's own addresses)"),
    HOP_LIMIT_EXCEEDED("IPv6 hop limit 1 or 0 on arrival at a NAT66 rewrite, of a packet or of an ICMPv6 error about one: cannot forward"),

    // Produced by the packet I/O.
    SNAPLEN_TRUNCATED("frame larger than the ring frame arrived truncated"),
    TX_RING_FULL("no free slot in the TX ring"),
    RX_RING_OVERFLOW("the kernel dropped frames because the RX ring was full (read from PACKET_STATISTICS)"),
    CONTROL_RING_FULL("the ring to the control thread had no room for an ARP frame or a TCP health check's reply"),
    OVERSIZE_FRAME("frame larger than a TX ring slot or the egress MTU"),
    TUNNEL_TOO_BIG("packet plus the IP-in-IP header (20 bytes, 40 for IPv6 in IPv6) exceeds the server-side MTU (the client is sent ICMP fragmentation-needed when don't-fragment is set, ICMPv6 packet too big always)"),
    TUNNEL_GSO("GSO super-frame for an IP-in-IP service: lb does not segment for tunnels (turn GRO off on the client-side interface)");

    private final String metricName;
    private final String description;

    DropReason(final String description)
    {
        // name() is already set: Enum's constructor runs first.
        this.metricName = name().toLowerCase(Locale.ROOT);
        this.description = description;
    }

    /**
     * Counter name, the constant's name in lower case, e.g. {@code truncated_ipv4}.
     *
     * @return the metric name.
     */
    public String metricName()
    {
        return metricName;
    }

    /**
     * One line for people reading counters.
     *
     * @return the description.
     */
    public String description()
    {
        return description;
    }
}
