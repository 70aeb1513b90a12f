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
    /** Not forwardable; {@link ParsedFrame#dropReason} says why. */
    DROP
}
