package lb.control.config;

/** The transport protocol of a service; a service key is (VIP, port, protocol). */
public enum Protocol
{
    TCP(6),
    UDP(17);

    private final int ipProtocolNumber;

    Protocol(final int ipProtocolNumber)
    {
        this.ipProtocolNumber = ipProtocolNumber;
    }

    /** @return the IPv4 header's protocol number: 6 for TCP, 17 for UDP. */
    public int ipProtocolNumber()
    {
        return ipProtocolNumber;
    }

    /** @return the name in the config file and on the command line: {@code tcp} or {@code udp}. */
    public String configName()
    {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
