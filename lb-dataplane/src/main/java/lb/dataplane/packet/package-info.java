/**
 * Frame parsing: flyweights over Ethernet, ARP, IPv4, TCP, UDP and ICMP headers (and, not yet used by the
 * pipeline, IPv6 with its extension-header walk, ICMPv6 and neighbour discovery), the
 * {@link lb.dataplane.packet.FrameClassifier} that fills a {@link lb.dataplane.packet.ParsedFrame},
 * and {@link lb.dataplane.packet.DropReason}, the one list of every drop in lb.
 */
package lb.dataplane.packet;
