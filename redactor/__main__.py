from redactor.cli.main import main

main()
