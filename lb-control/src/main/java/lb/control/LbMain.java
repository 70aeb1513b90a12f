package lb.control;

/** Entry point of the {@code lb} command. */
public final class LbMain
{
    public static void main(final String[] args)
    {
        System.out.println("lb: the appliance is not built yet");
    }
}
