from graphtape.cli.main import main

main()
