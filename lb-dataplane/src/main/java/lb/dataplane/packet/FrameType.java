package lb.dataplane.packet;

/** What {@link FrameClassifier#classify} found in a frame. */
public enum FrameType
{
    /** Ethernet/IPv4 ARP request or reply. */
    ARP,
    /** Unfragmented IPv4 carrying a well-formed TCP header. */
    IPV4_TCP,
    /** Unfragmented IPv4 carrying a UDP datagram whose length matches the IPv4 payload. */
    IPV4_UDP,
    /** Unfragmented IPv4 carrying an ICMP message of at least 8 bytes. */
    IPV4_ICMP,
    /** IPv6 (past any extension headers lb passes over) carrying a well-formed TCP header. */
    IPV6_TCP,
    /** IPv6 carrying a UDP datagram whose length matches the upper-layer length and whose checksum is not 0. */
    IPV6_UDP,
    /** IPv6 carrying an ICMPv6 message of at least 8 bytes. */
    IPV6_ICMP,
    /** Not forwardable; {@link ParsedFrame#dropReason} says why. */
    DROP
}
